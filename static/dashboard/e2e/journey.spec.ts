/**
 * A team's first day with datalab, in real Chromium against a real server: two colleagues sign
 * up, one creates a private app, invites the other, configures a funnel, issues the token; a
 * customer's page with the real snippet is visited and every screen follows without a reload.
 */
import { expect, test, type Browser, type BrowserContext, type Page } from "@playwright/test";

import { apiAs, CustomerSite, generateTraffic, PASSWORD, shoot, verificationLink } from "./support";

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

test("the owner invites the colleague, who accepts", async () => {
  await ann.goto(`${appPath}/team`);
  await ann.getByRole("combobox", { name: "Colleague" }).fill("ben");
  await ann.getByRole("option", { name: /Ben Colleague/ }).click();
  await ann.getByRole("button", { name: "Send invitation" }).click();
  await expect(ann.getByText(BEN.email).first()).toBeVisible();
  await shoot(ann, "team");

  await ben.goto("/invites");
  await shoot(ben, "invites");
  await ben.getByRole("button", { name: "Accept invitation to Shop" }).click();
  await expect(ben).toHaveURL(new RegExp(`${appPath}(\\?|$)`));
});

test("the owner configures a three-stage funnel", async () => {
  await ann.goto(`${appPath}/configuration`);
  const stages = [
    ["Landing", "Page view", "Page path", "/"],
    ["Pricing", "Page view", "Page path", "/pricing"],
    ["Signup", "Click", "CSS selector", "#signup"],
  ];
  for (const [index, [name, kind, matchLabel, match]] of stages.entries()) {
    await ann.getByRole("button", { name: "Add stage" }).click();
    await ann.getByRole("textbox", { name: `Stage ${index + 1} Name` }).fill(name);
    await ann.getByRole("combobox", { name: `Stage ${index + 1} Kind` }).selectOption({ label: kind });
    await ann.getByRole("textbox", { name: `Stage ${index + 1} ${matchLabel}` }).fill(match);
  }
  await ann.getByRole("button", { name: "Save configuration" }).click();
  await expect(ann.getByRole("status").filter({ hasText: "Configuration saved (version 2)." })).toBeVisible();
  await shoot(ann, "configuration");
});

test("issuing the token locks the app, and the member sees the configuration read-only", async () => {
  await ann.goto(`${appPath}/install`);
  await ann.getByRole("button", { name: "Issue token…" }).click();
  await ann.getByRole("button", { name: "Issue token and lock" }).click();
  const snippet = await ann.getByRole("region", { name: "Snippet" }).getByText(/data-token=/).first().textContent();
  site.token = snippet!.match(/data-token="([^"]+)"/)![1];
  await expect(ann.getByText("Locked", { exact: true }).first()).toBeVisible();
  await shoot(ann, "install");

  await ben.goto(`${appPath}/configuration`);
  await expect(ben.getByRole("region", { name: "Locked configuration" })).toBeVisible();
  await expect(ben.getByRole("button", { name: "Save configuration" })).toHaveCount(0);
  await expect(ben.getByRole("button", { name: "Unlock…" })).toHaveCount(0); // the owner's alone
  await shoot(ben, "configuration-locked");
});

test("a visit through two stages shows in the page views, the funnel and live without a reload", async ({
  browser,
}) => {
  const overview = ann;
  await overview.goto(appPath);
  const funnel = await ann.context().newPage();
  await funnel.goto(`${appPath}/funnel`);
  const live = await ann.context().newPage();
  await live.goto(`${appPath}/live`);
  await expect(live.getByRole("status").filter({ hasText: "Live" })).toBeVisible();

  const visitor = await browser.newPage();
  await visitor.goto(`${site.origin}/`);
  await visitor.waitForTimeout(1500); // the landing view is sent (the snippet batches each second)
  await visitor.getByRole("link", { name: "Pricing" }).click();
  await visitor.waitForURL(`${site.origin}/pricing`);

  await expect(live.getByRole("region", { name: "Current pages" })).toContainText("/pricing");
  await expect(live.getByRole("list", { name: "Latest events" })).toContainText("Pricing");
  await expect(overview.getByRole("button", { name: /^Page views 2\b/ })).toBeVisible();
  const stages = funnel.getByRole("list", { name: "Funnel stages" }).getByRole("listitem");
  await expect(stages.nth(0)).toContainText("1 visitor");
  await expect(stages.nth(1)).toContainText("1 visitor");
  await shoot(live, "live");
  await visitor.close();
  await funnel.close();
  await live.close();
});

test("a filter by browser goes into the URL and every widget follows, with the API's numbers", async () => {
  generateTraffic(Number(appPath.split("/").pop()), 20_000, 14);
  await ann.goto(appPath);
  const asked: URL[] = [];
  ann.on("request", (request) => {
    const url = new URL(request.url());
    // insights of the range (the live figures of the last minutes take no filters)
    if (url.pathname.includes("/insights/") && !url.pathname.endsWith("/live")) asked.push(url);
  });
  await ann.getByRole("button", { name: "Filter by browser Firefox" }).first().click();

  await expect(ann).toHaveURL(/[?&]browser=Firefox/);
  await expect(ann.getByRole("button", { name: "Remove filter Browser: Firefox" })).toBeVisible();
  const filtered = () => asked.filter((url) => url.searchParams.get("browser") === "Firefox");
  const widgets = () => new Set(filtered().map((url) => url.pathname.split("/insights/")[1]));
  await expect.poll(() => [...widgets()].sort()).toEqual(["overview", "pages", "sources", "technology"]);
  await ann.waitForLoadState("networkidle");
  const after = asked.slice(asked.indexOf(filtered()[0]));
  expect(after.filter((url) => url.searchParams.get("browser") !== "Firefox")).toEqual([]);

  const query = new URL(ann.url()).search;
  const expected = await apiAs<{ visitors: number; pageviews: number }>(ann, `apps/${appPath.split("/").pop()}/insights/overview${query}`);
  const format = (value: number) => value.toLocaleString("en-US");
  await expect(ann.getByRole("button", { name: new RegExp(`^Unique visitors ${format(expected.visitors)}\\b`) })).toBeVisible();
  await expect(ann.getByRole("button", { name: new RegExp(`^Page views ${format(expected.pageviews)}\\b`) })).toBeVisible();
  await shoot(ann, "overview-filtered");
});

test("a table downloads as CSV", async () => {
  await ann.goto(appPath);
  const download = ann.waitForEvent("download");
  await ann.getByRole("button", { name: "Download Top pages as CSV" }).click();
  const file = await download;
  expect(file.suggestedFilename()).toMatch(/^shop-pages-\d{4}-\d\d-\d\d-\d{4}-\d\d-\d\d\.csv$/);
  const text = await (await file.createReadStream()).toArray();
  expect(Buffer.concat(text).toString("utf8")).toMatch(/^path,pageviews,visitors/);
});

test("every screen, as the owner", async () => {
  test.setTimeout(300_000); // sixty-odd full-page screenshots: minutes on a busy machine
  const screens = ["", "/pages", "/sources", "/technology", "/funnel", "/journeys", "/elements", "/live", "/configuration", "/install", "/team"];
  for (const screen of screens) {
    await ann.goto(`${appPath}${screen}`);
    await expect(ann.getByRole("heading", { level: 1 })).toBeVisible();
    await ann.waitForLoadState("networkidle");
    await shoot(ann, `screen${screen.replace("/", "-") || "-overview"}`);
  }
  for (const path of ["/apps", "/notifications", "/account", "/invites"]) {
    await ann.goto(path);
    await ann.waitForLoadState("networkidle");
    await shoot(ann, `page-${path.slice(1)}`);
  }
  await ann.goto(`${appPath}/funnel`);
  await ann.getByRole("button", { name: /dropped off between Landing and Pricing/ }).click();
  await shoot(ann, "funnel-dropoffs");
});

test("the owner unlocks the app: a new data epoch, the configuration editable again", async () => {
  await ann.goto(`${appPath}/configuration`);
  await ann.getByRole("button", { name: "Unlock…" }).click();
  await ann.getByRole("button", { name: "Unlock and start epoch 2" }).click();
  await expect(ann.getByRole("button", { name: "Add stage" })).toBeVisible();
  await expect(ann.getByRole("region", { name: "Locked configuration" })).toHaveCount(0);
  await shoot(ann, "configuration-unlocked");
});

test("the member leaves the app: it is gone from their apps, and the owner is told", async () => {
  await ben.goto(`${appPath}/team`);
  await shoot(ben, "team-member");
  await ben.getByRole("button", { name: "Leave app…" }).click();
  await ben.getByRole("button", { name: "Leave Shop" }).click();
  await expect(ben).toHaveURL(/\/apps$/);
  await expect(ben.getByRole("link", { name: /Shop/ })).toHaveCount(0);
  await ben.goto(appPath);
  await expect(ben.getByRole("heading", { name: "App not found" })).toBeVisible();
  await ann.goto("/notifications");
  await expect(ann.getByText("Ben Colleague left Shop.")).toBeVisible();
});
