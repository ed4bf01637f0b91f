/**
 * Settings → Automation in the browser, as an admin at desktop and as a member at 390 px: reached
 * through the settings navigation, a schedule, a webhook (its secret shown once) and a GitHub issue
 * trigger made through the page's form; bad input answered by the server's own sentence beside its
 * field, with nothing made; a trigger changed and turned off, then removed; a webhook fired through
 * the API with a wrong and a right secret, its firings listed (refused while off, then started); a
 * webhook's secret replaced from its page; no sideways scrolling at 390 px; and the forms working
 * without JavaScript. Runs use the local runtime, the fake Anthropic and the fake GitHub.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { ARTIFACTS, DESKTOP, PHONE, launchBrowser, sidewaysOverflow, signedInPage, watchErrors } from "../support/browser.ts";
import type { FakeAnthropic } from "../support/fake-anthropic.ts";
import type { FakeGitHub } from "../support/fake-github.ts";
import { type TestPier, json, signIn } from "../support/pier.ts";
import { type RunJson, setUpRuns, tearDownRuns } from "../support/runs.ts";
import { apiError } from "../support/sessions.ts";
import { until } from "../support/until.ts";

type TriggerJson = { id: string; kind: string; name: string; cron: string | null; label: string | null; mention: string | null; allowedLogins: string[]; budgetUsd: number | null; enabled: boolean };
type FiringJson = { outcome: "started" | "refused"; reason: string | null; runId: string | null };

describe("the Automation page", () => {
  let github: FakeGitHub;
  let anthropic: FakeAnthropic;
  let pier: TestPier;
  let browser: Browser;
  let admin: string;
  let member: string;
  let repoId: string;

  const api = async <T,>(cookie: string, path: string, method = "GET", body?: unknown): Promise<T> => {
    const init = body === undefined ? { method, headers: { cookie } } : { ...json(body, { cookie }), method };
    const res = await pier.fetch(path, init);
    expect(res.status, `${method} ${path}`).toBeLessThan(300);
    return (res.status === 204 ? null : await res.json()) as T;
  };
  const triggersOf = (cookie: string) => api<TriggerJson[]>(cookie, "/api/triggers");
  const fire = (id: string, secret: string, payload: unknown) => pier.fetch(`/api/triggers/${id}/fire`, json(payload, { authorization: `Bearer ${secret}` }));

  /** Fills the Add a trigger form; fields left out stay empty. */
  const addTrigger = async (page: Page, fields: { kind: string; name: string; promptTemplate: string; cron?: string; label?: string; allowedLogins?: string }) => {
    const form = page.getByRole("form", { name: "Add a trigger" });
    await form.getByLabel("Kind").selectOption(fields.kind);
    await form.getByLabel("Repository").selectOption(repoId);
    await form.getByLabel("Name").fill(fields.name);
    await form.getByLabel("Prompt template").fill(fields.promptTemplate);
    await form.getByLabel("Schedule (cron)").fill(fields.cron ?? "");
    await form.getByLabel("Issue label").fill(fields.label ?? "");
    await form.getByLabel("Allowed GitHub logins").fill(fields.allowedLogins ?? "");
    await form.getByRole("button", { name: "Add trigger" }).click();
  };

  /** What the API answers to the same trigger: the sentence the page must show beside the field. */
  const apiRefusal = async (cookie: string, body: Record<string, unknown>) => {
    const refused = await apiError(await pier.fetch("/api/triggers", json({ repoId, enabled: true, ...body }, { cookie })));
    expect(refused.status).toBe(400);
    return refused.message;
  };

  beforeAll(async () => {
    ({ github, anthropic, pier, cookie: admin, repoId } = await setUpRuns({ maxConcurrentRuns: 4 }));
    // Every run's agent looks and finds nothing to change, so each run ends on its own.
    anthropic.scriptWhen((body) => body.system !== undefined, { text: "Looked; nothing to change." });
    await api(admin, "/api/users", "POST", { username: "mia", password: "member password", role: "member" });
    member = await signIn(pier, "mia", "member password");
    browser = await launchBrowser();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await tearDownRuns({ pier, github, anthropic });
  }, 60_000);

  /**
   * The whole round on the page for one person: the three kinds made, bad input refused beside its
   * field, the webhook changed and turned off, fired while off (refused) and on (started), a
   * schedule removed.
   */
  const walkThrough = async (page: Page, who: { cookie: string; tag: string; phone: boolean }) => {
    const shoot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `automation-${name}-${who.tag}.png`), fullPage: true });
    const before = (await triggersOf(who.cookie)).length;

    // A schedule.
    await addTrigger(page, { kind: "schedule", name: `Nightly bump ${who.tag}`, promptTemplate: "Bump the dependencies.", cron: "0 3 * * *" });
    await page.getByRole("status").filter({ hasText: `Added Nightly bump ${who.tag}.` }).waitFor();
    const list = page.getByRole("list", { name: "Triggers" });
    expect(await list.getByRole("link", { name: `Nightly bump ${who.tag}` }).count()).toBe(1);
    const schedule = (await triggersOf(who.cookie)).find((trigger) => trigger.name === `Nightly bump ${who.tag}`)!;
    expect(schedule).toMatchObject({ kind: "schedule", cron: "0 3 * * *", enabled: true });

    // A cron croner cannot read: the server's sentence beside the cron field, nothing made.
    await addTrigger(page, { kind: "schedule", name: `Broken ${who.tag}`, promptTemplate: "Bump.", cron: "every day" });
    const cronError = page.locator("#field-cron-error");
    await cronError.waitFor();
    expect(await cronError.textContent()).toBe(await apiRefusal(who.cookie, { kind: "schedule", name: "Broken", promptTemplate: "Bump.", cron: "every day" }));
    expect(await page.getByLabel("Schedule (cron)").getAttribute("aria-invalid")).toBe("true");
    // What was typed comes back to be corrected.
    expect(await page.getByLabel("Name").inputValue()).toBe(`Broken ${who.tag}`);
    if (who.phone) expect(await sidewaysOverflow(page)).toBeLessThanOrEqual(0);
    await shoot("bad-cron");

    // A placeholder a schedule does not fill: the sentence beside the template.
    await addTrigger(page, { kind: "schedule", name: `Placeholder ${who.tag}`, promptTemplate: "Deploy {{payload.service}}.", cron: "0 3 * * *" });
    const templateError = page.locator("#field-promptTemplate-error");
    await templateError.waitFor();
    expect(await templateError.textContent()).toBe(
      await apiRefusal(who.cookie, { kind: "schedule", name: "Placeholder", promptTemplate: "Deploy {{payload.service}}.", cron: "0 3 * * *" }),
    );
    expect(await page.locator("#field-cron-error").count()).toBe(0);
    expect((await triggersOf(who.cookie)).length).toBe(before + 1);

    // A webhook: its secret once, with the page saying it is shown only now.
    await addTrigger(page, { kind: "webhook", name: `Deploy alarm ${who.tag}`, promptTemplate: "Find why the deploy of {{payload.service}} failed." });
    const shown = page.getByRole("region", { name: "New webhook secret" });
    await shown.waitFor();
    expect(await shown.textContent()).toContain("cannot show it again");
    const secret = (await shown.locator("#new-secret").textContent())!.trim();
    expect(secret).toStartWith("pierhook_");
    const webhook = (await triggersOf(who.cookie)).find((trigger) => trigger.name === `Deploy alarm ${who.tag}`)!;
    expect(await shown.locator(".fire-example").textContent()).toContain(`${pier.url}/api/triggers/${webhook.id}/fire`);
    if (who.phone) expect(await sidewaysOverflow(page)).toBeLessThanOrEqual(0);
    await shoot("webhook-secret");
    await page.reload();
    await list.waitFor();
    expect(await page.getByRole("region", { name: "New webhook secret" }).count()).toBe(0);
    expect(await page.content()).not.toContain(secret);

    // A GitHub issue trigger, its logins one per line.
    await addTrigger(page, { kind: "github_issue", name: `Issues ${who.tag}`, promptTemplate: "Fix: {{issue.title}}", label: "pier", allowedLogins: "octocat\nhubot" });
    await page.getByRole("status").filter({ hasText: `Added Issues ${who.tag}.` }).waitFor();
    expect((await triggersOf(who.cookie)).find((trigger) => trigger.name === `Issues ${who.tag}`)).toMatchObject({
      kind: "github_issue",
      label: "pier",
      mention: "@pier",
      allowedLogins: ["octocat", "hubot"],
      cron: null,
    });
    expect((await triggersOf(who.cookie)).length).toBe(before + 3);
    if (who.phone) expect(await sidewaysOverflow(page)).toBeLessThanOrEqual(0);
    await shoot("list");

    // The webhook changed and turned off on its own page.
    await list.getByRole("link", { name: `Deploy alarm ${who.tag}` }).click();
    await page.waitForURL(`${pier.url}/settings/automation/${webhook.id}`);
    const settings = page.getByRole("form", { name: "Trigger settings" });
    expect(await settings.getByLabel("Schedule (cron)").count()).toBe(0);
    await settings.getByLabel("Budget per run (USD)").fill("0");
    // The address to fire it at wraps rather than widening the page.
    if (who.phone) expect(await sidewaysOverflow(page)).toBeLessThanOrEqual(0);
    await settings.getByRole("button", { name: "Save" }).click();
    const budgetError = page.locator("#field-budgetUsd-error");
    await budgetError.waitFor();
    expect(await budgetError.textContent()).toBe(
      (await apiError(await pier.fetch(`/api/triggers/${webhook.id}`, { ...json({ budgetUsd: 0 }, { cookie: who.cookie }), method: "PATCH" }))).message,
    );
    expect((await api<TriggerJson>(who.cookie, `/api/triggers/${webhook.id}`)).budgetUsd).toBeNull();
    await settings.getByLabel("Name").fill(`Deploy alarm (api) ${who.tag}`);
    await settings.getByLabel("Budget per run (USD)").fill("2");
    await settings.getByLabel("Enabled").uncheck();
    await settings.getByRole("button", { name: "Save" }).click();
    await page.getByRole("heading", { level: 1, name: `Deploy alarm (api) ${who.tag}` }).waitFor();
    expect(await api<TriggerJson>(who.cookie, `/api/triggers/${webhook.id}`)).toMatchObject({ name: `Deploy alarm (api) ${who.tag}`, budgetUsd: 2, enabled: false });
    expect(await page.getByLabel("Enabled").isChecked()).toBe(false);

    // Fired as a caller would: a wrong secret is refused and recorded nowhere; the right one while
    // the trigger is off is refused and recorded; on again, it starts a run.
    expect(await apiError(await fire(webhook.id, "pierhook_notthesecret", { service: "api" }))).toMatchObject({ status: 401, code: "bad_secret" });
    expect(await apiError(await fire(webhook.id, secret, { service: "api" }))).toMatchObject({ status: 409, code: "trigger_disabled" });
    await page.getByLabel("Enabled").check();
    await Promise.all([page.waitForEvent("load"), settings.getByRole("button", { name: "Save" }).click()]);
    expect((await api<TriggerJson>(who.cookie, `/api/triggers/${webhook.id}`)).enabled).toBe(true);
    const started = await fire(webhook.id, secret, { service: "api" });
    expect(started.status).toBe(202);
    const { runs } = (await started.json()) as { runs: RunJson[] };
    expect(runs).toEqual([expect.objectContaining({ triggerId: webhook.id })]);
    await page.reload();
    const firings = page.getByRole("list", { name: "Firings" });
    await firings.waitFor();
    expect(await firings.locator('[data-outcome="refused"]').textContent()).toContain("The trigger is turned off.");
    expect(await firings.locator('[data-outcome="started"]').textContent()).toContain(`run ${runs[0]!.id}`);
    const fired = await api<Array<FiringJson & { at: string }>>(who.cookie, `/api/triggers/${webhook.id}/firings`);
    expect(fired.map((firing) => firing.outcome)).toEqual(["started", "refused"]);
    expect(await page.locator("h1 + p").textContent()).toBe(`Webhook trigger on widgets, last fired ${fired[0]!.at.replace("T", " ").slice(0, 16)} UTC.`);
    if (who.phone) expect(await sidewaysOverflow(page)).toBeLessThanOrEqual(0);
    await shoot("firings");
    await until("the run ended", () => api<RunJson>(who.cookie, `/api/runs/${runs[0]!.id}`), (run) => run.state === "failed");

    // The schedule removed from its page, after the question.
    await page.goto(`${pier.url}/settings/automation/${schedule.id}`);
    page.once("dialog", (dialog) => void dialog.accept());
    await page.getByRole("button", { name: "Remove trigger" }).click();
    await page.waitForURL(`${pier.url}/settings/automation`);
    await list.waitFor();
    expect(await list.getByRole("link", { name: `Nightly bump ${who.tag}` }).count()).toBe(0);
    expect((await pier.fetch(`/api/triggers/${schedule.id}`, { headers: { cookie: who.cookie } })).status).toBe(404);
    return { webhook, secret };
  };

  test("an admin at desktop finds Automation in the settings navigation and makes, changes, fires and removes triggers there", async () => {
    const { context, page } = await signedInPage(browser, pier.url, admin, DESKTOP);
    const problems = watchErrors(page, { refusedWith: 400 });
    await page.goto(pier.url);
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Settings" }).click();
    await page.waitForURL(`${pier.url}/settings`);
    await page.getByRole("navigation", { name: "Settings" }).getByRole("link", { name: "Automation" }).click();
    await page.waitForURL(`${pier.url}/settings/automation`);
    expect(await page.getByRole("navigation", { name: "Settings" }).getByRole("link", { name: "Automation" }).getAttribute("aria-current")).toBe("page");
    expect(await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Settings" }).getAttribute("aria-current")).toBe("page");

    const { webhook, secret } = await walkThrough(page, { cookie: admin, tag: "desktop", phone: false });

    // A new secret from the webhook's page: shown once, the old one refused from then on.
    await page.goto(`${pier.url}/settings/automation/${webhook.id}`);
    page.once("dialog", (dialog) => void dialog.accept());
    await page.getByRole("button", { name: "Replace the secret" }).click();
    const shown = page.getByRole("region", { name: "New webhook secret" });
    await shown.waitFor();
    expect(await shown.textContent()).toContain("cannot show it again");
    const replaced = (await shown.locator("#new-secret").textContent())!.trim();
    expect(replaced).toStartWith("pierhook_");
    expect(replaced).not.toBe(secret);
    await page.screenshot({ path: join(ARTIFACTS, "automation-new-secret-desktop.png"), fullPage: true });
    expect(await apiError(await fire(webhook.id, secret, { service: "api" }))).toMatchObject({ status: 401, code: "bad_secret" });
    const started = await fire(webhook.id, replaced, { service: "api" });
    expect(started.status).toBe(202);
    const { runs } = (await started.json()) as { runs: RunJson[] };
    await page.reload();
    await page.getByRole("list", { name: "Firings" }).waitFor();
    expect(await page.getByRole("region", { name: "New webhook secret" }).count()).toBe(0);
    expect(await page.content()).not.toContain(replaced);
    await until("the run ended", () => api<RunJson>(admin, `/api/runs/${runs[0]!.id}`), (run) => run.state === "failed");
    await context.close();
    expect(problems).toEqual([]);
  }, 180_000);

  test("a member at 390 px reaches Automation from the menu, sees only their own triggers, and the page never scrolls sideways", async () => {
    const { context, page } = await signedInPage(browser, pier.url, member, PHONE);
    const problems = watchErrors(page, { refusedWith: 400 });
    await page.goto(pier.url);
    await page.getByText("Menu").click();
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Settings" }).click();
    await page.waitForURL(`${pier.url}/settings/automation`);
    expect(await page.getByRole("navigation", { name: "Settings" }).getByRole("link", { name: "Automation" }).getAttribute("aria-current")).toBe("page");
    // The member's settings are theirs to read, not the instance's: no link to the admin's page.
    expect(await page.getByRole("navigation", { name: "Settings" }).getByRole("link", { name: "General" }).count()).toBe(0);
    expect(await page.getByRole("list", { name: "Triggers" }).count()).toBe(0);
    expect(await page.locator("main").textContent()).not.toContain("desktop");
    expect(await sidewaysOverflow(page)).toBeLessThanOrEqual(0);

    await walkThrough(page, { cookie: member, tag: "phone", phone: true });

    // Only their own: the admin's remaining triggers are neither listed nor reachable.
    const theirs = await triggersOf(admin);
    const admins = theirs.filter((trigger) => trigger.name.endsWith("desktop"));
    expect(admins.length).toBe(2);
    await page.goto(`${pier.url}/settings/automation`);
    expect(await page.getByRole("list", { name: "Triggers" }).getByRole("link").allTextContents()).toEqual([`Issues phone`, `Deploy alarm (api) phone`]);
    expect((await pier.fetch(`/settings/automation/${admins[0]!.id}`, { headers: { cookie: member } })).status).toBe(404);
    // An admin sees everyone's.
    expect(theirs.map((trigger) => trigger.name)).toEqual(expect.arrayContaining(["Issues phone", "Deploy alarm (api) phone"]));
    await context.close();
    expect(problems).toEqual([]);
  }, 180_000);

  test("without JavaScript the forms still work: a refusal beside its field, a trigger made, changed, given a new secret and removed", async () => {
    const context = await browser.newContext({ viewport: DESKTOP, javaScriptEnabled: false });
    const [name, value] = admin.split("=") as [string, string];
    await context.addCookies([{ name, value, url: pier.url }]);
    const page = await context.newPage();
    await page.goto(`${pier.url}/settings/automation`);

    await addTrigger(page, { kind: "schedule", name: "Plain weekly", promptTemplate: "Tidy up.", cron: "0 9 * * 1 extra" });
    const cronError = page.locator("#field-cron-error");
    await cronError.waitFor();
    expect(await cronError.textContent()).toBe(await apiRefusal(admin, { kind: "schedule", name: "Plain weekly", promptTemplate: "Tidy up.", cron: "0 9 * * 1 extra" }));
    expect((await triggersOf(admin)).some((trigger) => trigger.name === "Plain weekly")).toBe(false);
    await page.getByLabel("Schedule (cron)").fill("0 9 * * 1");
    await page.getByRole("button", { name: "Add trigger" }).click();
    await page.getByRole("status").filter({ hasText: "Added Plain weekly." }).waitFor();
    const weekly = (await triggersOf(admin)).find((trigger) => trigger.name === "Plain weekly")!;
    expect(weekly).toMatchObject({ cron: "0 9 * * 1", enabled: true });

    await page.getByRole("list", { name: "Triggers" }).getByRole("link", { name: "Plain weekly" }).click();
    await page.getByLabel("Enabled").uncheck();
    await page.getByRole("button", { name: "Save" }).click();
    await page.waitForURL(`${pier.url}/settings/automation/${weekly.id}`);
    expect(await api<TriggerJson>(admin, `/api/triggers/${weekly.id}`)).toMatchObject({ enabled: false, cron: "0 9 * * 1" });
    expect(await page.getByLabel("Enabled").isChecked()).toBe(false);
    // A schedule has no secret to replace.
    expect(await page.getByRole("button", { name: "Replace the secret" }).count()).toBe(0);
    await page.getByRole("button", { name: "Remove trigger" }).click();
    await page.waitForURL(`${pier.url}/settings/automation`);
    expect((await pier.fetch(`/api/triggers/${weekly.id}`, { headers: { cookie: admin } })).status).toBe(404);

    await addTrigger(page, { kind: "webhook", name: "Plain hook", promptTemplate: "Look at {{payload}}." });
    const made = (await page.getByRole("region", { name: "New webhook secret" }).locator("#new-secret").textContent())!.trim();
    const hook = (await triggersOf(admin)).find((trigger) => trigger.name === "Plain hook")!;
    await page.getByRole("list", { name: "Triggers" }).getByRole("link", { name: "Plain hook" }).click();
    await page.getByRole("button", { name: "Replace the secret" }).click();
    const replaced = (await page.getByRole("region", { name: "New webhook secret" }).locator("#new-secret").textContent())!.trim();
    expect(replaced).not.toBe(made);
    expect((await fire(hook.id, made, {})).status).toBe(401);
    await api(admin, `/api/triggers/${hook.id}`, "PATCH", { enabled: false });
    // Off, the right secret is let in and refused only for being off.
    expect(await apiError(await fire(hook.id, replaced, {}))).toMatchObject({ status: 409, code: "trigger_disabled" });
    await page.screenshot({ path: join(ARTIFACTS, "automation-no-js-desktop.png"), fullPage: true });
    await context.close();
  }, 60_000);
});
