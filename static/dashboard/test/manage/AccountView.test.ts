import { flushPromises } from "@vue/test-utils";
import { describe, expect, it } from "vitest";

import { useAuthStore } from "@/stores/auth";
import { ME, mockApi, settle } from "../helpers";
import { button, byLabel, freshPagePerTest, LiveSocket, ME_ROUTE, mountRoute } from "./helpers";

freshPagePerTest();

const ORG = {
  organization: { id: 1, domain: "example.com", name: "Example", created_at: "2026-01-10T10:00:00Z" },
  colleagues: [
    { id: 2, email: "grace@example.com", first_name: "Grace", last_name: "Hopper", position: "Engineer" },
    { id: 4, email: "alan@example.com", first_name: "Alan", last_name: "Turing", position: "" },
  ],
};

async function type(element: HTMLElement, value: string): Promise<void> {
  (element as HTMLInputElement).value = value;
  element.dispatchEvent(new Event("input", { bubbles: true }));
  await flushPromises();
}

describe("account screen", () => {
  it("saves the profile, with the API's messages next to the fields", async () => {
    let attempt = 0;
    const { calls } = mockApi({
      ...ME_ROUTE,
      "GET /api/v1/org": { body: ORG },
      "PATCH /api/v1/me": ({ body }) =>
        ++attempt === 1
          ? { status: 400, body: { error: { code: "invalid", message: "Invalid.", fields: { position: ["Ensure this field has no more than 150 characters."] } } } }
          : { body: { ...ME, ...(body as object) } },
    });
    await mountRoute("/account");
    expect((byLabel("E-mail address") as HTMLInputElement).readOnly).toBe(true);

    await type(byLabel("Position"), "x".repeat(151));
    button("Save profile").click();
    await settle();
    expect(byLabel("Position").getAttribute("aria-invalid")).toBe("true");
    expect(document.body.textContent).toContain("Ensure this field has no more than 150 characters.");

    await type(byLabel("Position"), "Analyst");
    await type(byLabel("First name"), " Augusta ");
    button("Save profile").click();
    await settle();
    expect(calls.filter((call) => call.method === "PATCH")[1]!.body).toEqual({ first_name: "Augusta", last_name: "Lovelace", position: "Analyst" });
    expect(useAuthStore().me?.first_name).toBe("Augusta");
    expect(document.body.textContent).toContain("Profile saved.");
  });

  it("shows the organization and who of its colleagues is online, pushed by /ws/live", async () => {
    mockApi({ ...ME_ROUTE, "GET /api/v1/org": { body: ORG } });
    await mountRoute("/account");
    expect(document.body.textContent).toContain("example.com");
    expect(document.body.textContent).toContain("2 colleagues, 0 online now.");

    LiveSocket.current!.push({ type: "presence", users: [{ id: 4, online: true }] });
    await flushPromises();
    const rows = [...document.querySelectorAll("li")].map((row) => row.textContent!.replace(/\s+/g, " ").trim());
    expect(rows[0]).toContain("Alan Turing");
    expect(rows[0]).toContain("Online");
    expect(rows[1]).toContain("Offline");
    expect(document.body.textContent).toContain("2 colleagues, 1 online now.");
  });
});
