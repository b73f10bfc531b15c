import {
  createRouter,
  createWebHistory,
  type Router,
  type RouterHistory,
} from "vue-router";

import { useAuthStore } from "@/stores/auth";
import { loginLocation, safeNext } from "./next";
import { routes } from "./routes";

export { APP_SECTIONS, type AppSectionName } from "./routes";

/** The dashboard's router: history mode, and a guard that sends visitors without a session to
 * the login page (which brings them back afterwards). */
export function createAppRouter(history: RouterHistory = createWebHistory()): Router {
  const router = createRouter({
    history,
    routes,
    scrollBehavior(to, from, saved) {
      if (saved) return saved;
      return to.path === from.path ? false : { top: 0 };
    },
  });

  router.beforeEach(async (to) => {
    const auth = useAuthStore();
    if (!auth.isAuthenticated) return to.meta.public ? true : loginLocation(to.fullPath);
    if (to.meta.guestOnly) return safeNext(to.query.next) ?? { name: "apps" };
    if (!auth.me) {
      try {
        await auth.loadMe();
      } catch {
        // The session ended (or the server is unreachable: the screens say so themselves).
        if (!auth.isAuthenticated && !to.meta.public) return loginLocation(to.fullPath);
      }
    }
    return true;
  });

  return router;
}
