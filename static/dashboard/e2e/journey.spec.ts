/**
 * A team's first day with datalab, in real Chromium against a real server: two colleagues sign
 * up, one creates a private app, invites the other, configures a funnel, issues the token; a
 * customer's page with the real snippet is visited and every screen follows without a reload.
 */
import { expect, test, type Browser, type BrowserContext, type Page } from "@playwright/test";

import { CustomerSite, PASSWORD, shoot, verificationLink } from "./support";

test.describe.configure({ mode: "serial" });

const ANN = { first: "Ann", last: "Owner", email: "ann@acme.test" };
const BEN = { first: "Ben", last: "Colleague", email: "ben@acme.test" };

let ann: Page;
let ben: Page;
let site: CustomerSite;
let appPath = "";

/** What the browser refused under the Content-Security-Policy: must stay empty. */
const refused: string[] = [];

async function person(browser: Browser): Promise<Page> {
  const context: BrowserContext = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.on("console", (message) => {
    if (message.type() === "error" && message.text().includes("Content Security Policy")) {
      refused.push(`${page.url()}: ${message.text()}`);
    }
  });
  return page;
}

async function signUp(page: Page, who: typeof ANN): Promise<void> {
  await page.goto("/register");
  await page.getByLabel("First name").fill(who.first);
  await page.getByLabel("Last name").fill(who.last);
  await page.getByLabel("Work e-mail address").fill(who.email);
  await expect(page.getByLabel("Organization")).toHaveValue("acme.test"); // from the address
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
}

test.beforeAll(async ({ browser }) => {
  site = new CustomerSite();
  await site.start();
  ann = await person(browser);
  ben = await person(browser);
});

test.afterAll(async () => {
  await site.stop();
});

test.afterEach(() => {
  expect(refused, "the Content-Security-Policy refused something the dashboard loads").toEqual([]);
});

test("two colleagues sign up with their organization and confirm their address", async () => {
  await ann.goto("/register");
  await shoot(ann, "register");
  await signUp(ann, ANN); // founds the organization acme.test
  await expect(ann.getByRole("heading", { name: "No apps yet" })).toBeVisible();
  await shoot(ann, "apps-empty");

  await signUp(ben, BEN); // joins it once he confirms his address
  await expect(ben.getByRole("heading", { name: "Check your inbox" })).toBeVisible();
  await shoot(ben, "apps-unverified");
  await ben.goto(verificationLink(BEN.email));
  await expect(ben.getByRole("heading", { name: /confirmed/i })).toBeVisible();
  await shoot(ben, "verified");
});

test("the owner creates a private app", async () => {
  await ann.getByRole("link", { name: "New app" }).click();
  await ann.getByLabel("Name").fill("Shop");
  await ann.getByLabel("Website URL").fill(site.origin);
  await ann.getByLabel("Tags").fill("web");
  await shoot(ann, "app-new");
  await ann.getByRole("button", { name: "Create app" }).click();
  await expect(ann).toHaveURL(/\/apps\/\d+/);
  appPath = new URL(ann.url()).pathname.match(/\/apps\/\d+/)![0];
  await ann.goto("/apps");
  await expect(ann.getByRole("link", { name: /Shop/ }).first()).toBeVisible();
  await shoot(ann, "apps");
});
