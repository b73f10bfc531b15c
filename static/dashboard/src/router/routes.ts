import type { RouteRecordRaw } from "vue-router";

import AppsView from "@/views/AppsView.vue";
import LoginView from "@/views/LoginView.vue";

declare module "vue-router" {
  interface RouteMeta {
    /** Reachable without a session. */
    public?: boolean;
    /** Pages for people who are not logged in (a logged-in user goes on to their apps). */
    guestOnly?: boolean;
    /** The document title (the app's name is added on app screens). */
    title?: string;
    /** A screen of one app (/apps/:id/...), with the side navigation. */
    app?: boolean;
    /** Shows the date range and the filters, which it reads from the query string. */
    insights?: boolean;
  }
}

/** The screens of an app, in the order of the side navigation. */
export const APP_SECTIONS = [
  { name: "overview", path: "", label: "Overview", group: "Insights", insights: true,
    component: () => import("@/views/app/OverviewView.vue") },
  { name: "pages", path: "pages", label: "Pages", group: "Insights", insights: true,
    component: () => import("@/views/app/PagesView.vue") },
  { name: "sources", path: "sources", label: "Sources", group: "Insights", insights: true,
    component: () => import("@/views/app/SourcesView.vue") },
  { name: "technology", path: "technology", label: "Technology", group: "Insights", insights: true,
    component: () => import("@/views/app/TechnologyView.vue") },
  { name: "funnel", path: "funnel", label: "Funnel", group: "Insights", insights: true,
    component: () => import("@/views/app/FunnelView.vue") },
  { name: "journeys", path: "journeys", label: "Journeys", group: "Insights", insights: true,
    component: () => import("@/views/app/JourneysView.vue") },
  { name: "elements", path: "elements", label: "Elements", group: "Insights", insights: true,
    component: () => import("@/views/app/ElementsView.vue") },
  { name: "live", path: "live", label: "Live", group: "Insights", insights: false,
    component: () => import("@/views/app/LiveView.vue") },
  { name: "configuration", path: "configuration", label: "Configuration", group: "Settings", insights: false,
    component: () => import("@/views/app/ConfigurationView.vue") },
  { name: "install", path: "install", label: "Install", group: "Settings", insights: false,
    component: () => import("@/views/app/InstallView.vue") },
  { name: "team", path: "team", label: "Team", group: "Settings", insights: false,
    component: () => import("@/views/app/TeamView.vue") },
] as const;

export type AppSectionName = (typeof APP_SECTIONS)[number]["name"];

/** The client routes: a contract (people bookmark and share them). */
export const routes: RouteRecordRaw[] = [
  { path: "/", redirect: { name: "apps" } },
  {
    path: "/login",
    name: "login",
    component: LoginView,
    meta: { public: true, guestOnly: true, title: "Log in" },
  },
  {
    path: "/register",
    name: "register",
    component: () => import("@/views/RegisterView.vue"),
    meta: { public: true, guestOnly: true, title: "Sign up" },
  },
  {
    path: "/verify",
    name: "verify",
    component: () => import("@/views/VerifyView.vue"),
    meta: { public: true, title: "Confirm your e-mail address" },
  },
  { path: "/apps", name: "apps", component: AppsView, meta: { title: "Apps" } },
  {
    path: "/apps/new",
    name: "app-new",
    component: () => import("@/views/NewAppView.vue"),
    meta: { title: "New app" },
  },
  {
    path: "/apps/:id(\\d+)",
    component: () => import("@/views/app/AppView.vue"),
    meta: { app: true },
    children: APP_SECTIONS.map((section) => ({
      path: section.path,
      name: section.name,
      component: section.component,
      meta: { app: true, insights: section.insights, title: section.label },
    })),
  },
  {
    path: "/invites",
    name: "invites",
    component: () => import("@/views/InvitesView.vue"),
    meta: { title: "Invitations" },
  },
  {
    path: "/notifications",
    name: "notifications",
    component: () => import("@/views/NotificationsView.vue"),
    meta: { title: "Notifications" },
  },
  {
    path: "/account",
    name: "account",
    component: () => import("@/views/AccountView.vue"),
    meta: { title: "Account" },
  },
  {
    path: "/:pathMatch(.*)*",
    name: "not-found",
    component: () => import("@/views/NotFoundView.vue"),
    meta: { public: true, title: "Page not found" },
  },
];
