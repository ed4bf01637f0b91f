/**
 * The MCP servers' pages: plain forms that work without JavaScript (posted here as a browser
 * without it would), arguments one per line and the environment as NAME=value lines whose saved
 * values show masked and stay unless replaced, a typed secret never shown again, members reading
 * but not changing; and in Chromium at 390 px, adding a server (through htmx), its row, its edit
 * page and the repo page's section, with nothing wider than the screen. Screenshots are saved.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { ARTIFACTS, PHONE, launchBrowser, sidewaysOverflow, signedInPage, watchErrors } from "../support/browser.ts";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, closeForGood, json, setUpAdmin, signIn, startTestPier } from "../support/pier.ts";
import { addRepo } from "../support/sessions.ts";

type Server = { id: string; name: string; repoId: string | null; command: string; args: string[]; env: Record<string, string>; enabled: boolean };

const SECRET = "pages-secret-value-0123456789";
const TYPED = "typed-but-refused-secret-42";

let pier: TestPier;
let admin: string;
let member: string;
let repoId: string;
let browser: Browser;

/** A form post as a browser without JavaScript sends it; redirects are not followed. */
const post = (path: string, fields: Record<string, string>, who = admin) =>
  pier.fetch(path, { method: "POST", headers: { cookie: who, "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(fields).toString() });
const page = async (path: string, who = admin) => {
  const res = await pier.fetch(path, { headers: { cookie: who } });
  return { status: res.status, html: await res.text() };
};
const servers = async () => (await (await pier.fetch("/api/config/mcps", { headers: { cookie: admin } })).json()) as Server[];

beforeAll(async () => {
  pier = await startTestPier({ PIER_ALLOW_LOCAL_REPOS: "1" });
  admin = await setUpAdmin(pier);
  expect((await pier.fetch("/api/users", json({ username: "max", password: "member password 2", role: "member" }, { cookie: admin }))).status).toBe(201);
  member = await signIn(pier, "max", "member password 2");
  repoId = await addRepo(pier, admin, `file://${makeRemoteRepo("paged").path}`, "paged");
  browser = await launchBrowser();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  if (pier) await closeForGood(pier);
}, 60_000);

describe("without JavaScript", () => {
  test("adding a server: arguments one per line, the environment as NAME=value lines", async () => {
    const res = await post("/settings/mcps", {
      name: "github",
      command: "npx",
      args: "-y\r\n@modelcontextprotocol/server-github\r\n\r\n--read-only=yes please\r\n",
      env: `GITHUB_TOKEN=${SECRET}\r\nEMPTY=\r\n\r\nWITH_EQUALS=a=b`,
      enabled: "1",
      repoId: "",
    });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain("Added github.");
    expect(html).not.toContain(SECRET);
    const [server] = await servers();
    expect(server).toMatchObject({ name: "github", repoId: null, command: "npx", args: ["-y", "@modelcontextprotocol/server-github", "--read-only=yes please"], enabled: true });
    expect(Object.keys(server!.env)).toEqual(["GITHUB_TOKEN", "EMPTY", "WITH_EQUALS"]);
    expect((await pier.pier.mcpServers.launch(repoId, "github"))!.env).toEqual({ GITHUB_TOKEN: SECRET, EMPTY: "", WITH_EQUALS: "a=b" });
  });

  test("a refused form says why beside the field, keeps what was typed but never a secret, and writes nothing", async () => {
    for (const [fields, field, message] of [
      [{ name: "Bad Name", command: "x", env: `TOKEN=${TYPED}` }, "name", "lowercase"],
      [{ name: "fine", command: "x", env: `TOKEN=${TYPED}\nnot a variable line` }, "env", "line 2"],
      [{ name: "fine", command: "x", env: `TOKEN=${TYPED}\nTOKEN=again` }, "env", "twice"],
      [{ name: "github", command: "x", env: `TOKEN=${TYPED}` }, "name", "already exists"],
    ] as const) {
      const res = await post("/settings/mcps", { args: "", enabled: "1", repoId: "", ...fields });
      expect(res.status).toBeGreaterThanOrEqual(400);
      const html = await res.text();
      expect(html).toContain(`id="field-${field}-error"`);
      expect(html.toLowerCase()).toContain(message);
      expect(html).not.toContain(TYPED);
      if (field !== "env") expect(html).toContain(">TOKEN=</textarea>");
    }
    expect((await servers()).map((s) => s.name)).toEqual(["github"]);
  });

  test("editing shows saved values masked and keeps them unless replaced; toggling and removing work", async () => {
    const [server] = await servers();
    const edit = await page(`/settings/mcps/${server!.id}`);
    expect(edit.status).toBe(200);
    expect(edit.html).not.toContain(SECRET);
    expect(edit.html).toContain("GITHUB_TOKEN=••••••••\n");
    const envText = edit.html.match(/<textarea id="field-env"[^>]*>([^<]*)<\/textarea>/)![1]!;

    // Sent back as shown (with one line replaced and one removed), the secret stays.
    const saved = await post(`/settings/mcps/${server!.id}`, {
      name: "github",
      command: "bunx",
      args: "server-github",
      enabled: "1",
      env: envText.replace(/EMPTY=[^\n]*\n/, "").replace("WITH_EQUALS=••••••••", "WITH_EQUALS=c"),
    });
    expect(saved.status).toBe(303);
    expect(saved.headers.get("location")).toBe("/settings/mcps?saved=github");
    expect(await pier.pier.mcpServers.launch(repoId, "github")).toEqual({ command: "bunx", args: ["server-github"], env: { GITHUB_TOKEN: SECRET, WITH_EQUALS: "c" } });
    expect((await page("/settings/mcps?saved=github")).html).toContain("Saved github.");

    const toggled = await post(`/settings/mcps/${server!.id}/enabled`, { enabled: "0", back: `/repos/${repoId}` });
    expect(toggled.status).toBe(303);
    expect(toggled.headers.get("location")).toBe(`/repos/${repoId}#mcp-servers`);
    expect((await servers())[0]!.enabled).toBe(false);
    const elsewhere = await post(`/settings/mcps/${server!.id}/enabled`, { enabled: "1", back: "https://evil.example/" });
    expect(elsewhere.headers.get("location")).toBe("/settings/mcps");
    expect((await servers())[0]!.enabled).toBe(true);

    const forRepo = await post("/settings/mcps", { name: "github", command: "repo-github", args: "", env: "", enabled: "1", repoId });
    expect(forRepo.status).toBe(200);
    const repoPage = await page(`/repos/${repoId}`);
    expect(repoPage.html).toContain("repo-github");
    expect(repoPage.html).toContain("replaced here");

    const removed = await post(`/settings/mcps/${server!.id}/delete`, {});
    expect(removed.status).toBe(303);
    expect((await servers()).map((s) => s.command)).toEqual(["repo-github"]);
  });

  test("members see the list, and neither the forms nor a way to change anything", async () => {
    const list = await page("/settings/mcps", member);
    expect(list.status).toBe(200);
    expect(list.html).toContain("repo-github");
    expect(list.html).not.toContain('action="/settings/mcps"');
    expect(list.html).not.toContain("/enabled");
    const [server] = await servers();
    expect((await page(`/settings/mcps/${server!.id}`, member)).status).toBe(403);
    for (const path of ["/settings/mcps", `/settings/mcps/${server!.id}`, `/settings/mcps/${server!.id}/enabled`, `/settings/mcps/${server!.id}/delete`]) {
      expect((await post(path, { name: "x", command: "y", enabled: "0" }, member)).status).toBe(403);
    }
    expect(await servers()).toHaveLength(1);
    expect((await page(`/repos/${repoId}`, member)).html).toContain("All MCP servers");
  });
});

test("in Chromium at 390 px: add a server, see it listed, edit it, and the repo page's section", async () => {
  const { context, page: tab } = await signedInPage(browser, pier.url, admin, PHONE);
  const problems = watchErrors(tab, { consoleErrors: false });
  await tab.goto(`${pier.url}/settings/mcps?repoId=${repoId}#new`);
  expect(await tab.getByLabel("For").inputValue()).toBe(repoId);
  await tab.getByLabel("Name").fill("filesystem");
  await tab.getByLabel("Command").fill("npx");
  await tab.getByLabel("Arguments").fill("-y\n@modelcontextprotocol/server-filesystem\n.");
  await tab.getByLabel("Environment").fill(`FS_TOKEN=${SECRET}`);
  await tab.getByRole("button", { name: "Add server" }).click();
  await tab.getByText("Added filesystem.").waitFor();
  const row = tab.locator('li[data-server="filesystem"]');
  await row.getByText("npx -y @modelcontextprotocol/server-filesystem .").waitFor();
  expect(await row.textContent()).toContain("env: FS_TOKEN");
  expect(await tab.content()).not.toContain(SECRET);
  expect(await sidewaysOverflow(tab)).toBeLessThanOrEqual(0);
  await tab.screenshot({ path: join(ARTIFACTS, "mcp-servers-phone.png"), fullPage: true });

  await row.getByRole("link", { name: "filesystem" }).click();
  await tab.getByRole("heading", { name: "filesystem" }).waitFor();
  expect(await tab.getByLabel("Environment").inputValue()).toBe("FS_TOKEN=••••••••");
  expect(await sidewaysOverflow(tab)).toBeLessThanOrEqual(0);
  await tab.screenshot({ path: join(ARTIFACTS, "mcp-server-edit-phone.png"), fullPage: true });
  await tab.getByLabel("Enabled").uncheck();
  await tab.getByRole("button", { name: "Save" }).click();
  await tab.getByText("Saved filesystem.").waitFor();
  expect((await servers()).find((s) => s.name === "filesystem")!.enabled).toBe(false);
  expect((await pier.pier.mcpServers.launch(repoId, "github"))!.command).toBe("repo-github");

  await tab.goto(`${pier.url}/repos/${repoId}`);
  const section = tab.locator("#mcp-servers");
  await section.getByText("repo-github").waitFor();
  await section.locator('li[data-server="filesystem"]').getByRole("button", { name: "Enable" }).click();
  await section.locator('li[data-server="filesystem"]').getByRole("button", { name: "Disable" }).waitFor();
  expect(await sidewaysOverflow(tab)).toBeLessThanOrEqual(0);
  await section.screenshot({ path: join(ARTIFACTS, "mcp-servers-repo-phone.png") });
  expect(problems).toEqual([]);
  await context.close();
}, 60_000);
