/** What the end-to-end tests share: the server's console mail, a customer's site that embeds
 * the real snippet, screenshots of every screen in both themes and at both widths. */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdirSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

import type { Page } from "@playwright/test";

import { E2E_DATA_DIR, E2E_PORT } from "../playwright.config";

export const SERVER = `http://127.0.0.1:${E2E_PORT}`;
export const PASSWORD = "correct-horse-battery-9";
export const SHOTS = new URL("../e2e-shots/", import.meta.url).pathname;

/** The verification link of the last e-mail the server sent to `email` (console backend). */
export function verificationLink(email: string): string {
  const log = readFileSync(`${E2E_DATA_DIR}/server.log`, "utf8");
  const messages = log.split(/^-{20,}$/m).filter((message) => message.includes(`To: ${email}`));
  const link = messages.at(-1)?.match(/http\S+\/verify\?token=\S+/)?.[0];
  if (!link) throw new Error(`no verification e-mail to ${email} in the server's log`);
  return link;
}

/** A customer's small site on its own origin: every path answers one page that embeds the
 * snippet with `token` (set once the app has one). */
export class CustomerSite {
  token = "";
  private server: Server;

  constructor() {
    this.server = createServer((request, response) => {
      const path = new URL(request.url ?? "/", "http://x").pathname;
      response.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
      response.end(this.page(path));
    });
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
  }

  get origin(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private page(path: string): string {
    return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Shop ${path}</title>
<script async src="${SERVER}/static/datalab.js" data-token="${this.token}"></script></head>
<body><h1>Shop ${path}</h1>
<nav><a href="/">Home</a> <a href="/pricing">Pricing</a> <a href="/signup">Sign up</a></nav>
<button id="signup" type="button">Create my account</button></body></html>`;
  }
}

const SIZES = { desktop: { width: 1280, height: 900 }, phone: { width: 375, height: 812 } } as const;

/** Screenshots of the page as it is now, at desktop and phone width, light and dark, into
 * e2e-shots/ (git-ignored): `name`-desktop-light.png and so on. */
export async function shoot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  const original = page.viewportSize();
  for (const [size, viewport] of Object.entries(SIZES)) {
    await page.setViewportSize(viewport);
    for (const scheme of ["light", "dark"] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      await page.waitForTimeout(400); // charts re-render and settle
      await page.screenshot({ path: `${SHOTS}${name}-${size}-${scheme}.png`, fullPage: true });
    }
  }
  await page.emulateMedia({ colorScheme: "light" });
  if (original) await page.setViewportSize(original);
}

/** GET an API path with the page's own session (what the dashboard itself would ask). */
export async function apiAs<T>(page: Page, path: string): Promise<T> {
  const access = await page.evaluate(() => JSON.parse(localStorage.getItem("datalab.session") ?? "{}").access);
  const response = await page.request.get(`${SERVER}/api/v1/${path}`, {
    headers: { Authorization: `Bearer ${access}` },
  });
  if (!response.ok()) throw new Error(`GET ${path}: ${response.status()} ${await response.text()}`);
  return (await response.json()) as T;
}

/** `manage.py generate_traffic` on the e2e server's data: `events` events of `days` days. */
export function generateTraffic(appId: number, events: number, days: number): string {
  const root = new URL("../../../", import.meta.url).pathname;
  return execFileSync(
    `${root}.venv/bin/python`,
    ["manage.py", "generate_traffic", "--app", String(appId), "--events", String(events), "--days", String(days), "--jobs", "1"],
    { cwd: root, env: { ...process.env, DATALAB_DATA_DIR: E2E_DATA_DIR, DATALAB_PUBLIC_URL: SERVER }, encoding: "utf8" },
  );
}
