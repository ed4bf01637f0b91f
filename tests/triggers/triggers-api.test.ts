/**
 * Triggers through the API, before any run: who sees and changes which, what each kind must and
 * must not have, a webhook trigger's secret shown once and kept hashed, a fire with a wrong secret
 * refused as 401 with nothing recorded, and a fire of a disabled trigger refused and recorded.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { hashToken } from "../../src/auth/sign-ins.ts";
import { triggers } from "../../src/triggers/tables.ts";
import { type TestPier, closeForGood, json, setUpAdmin, signIn, startTestPier } from "../support/pier.ts";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { addRepo, apiError } from "../support/sessions.ts";

type TriggerJson = { id: string; kind: string; ownerId: string; cron: string | null; label: string | null; mention: string | null; allowedLogins: string[]; budgetUsd: number | null; enabled: boolean; secret?: string };

describe("triggers API", () => {
  let pier: TestPier;
  let admin: string;
  let member: string;
  let githubRepoId: string;
  let plainRepoId: string;

  const post = (cookie: string, body: Record<string, unknown>) => pier.fetch("/api/triggers", json(body, { cookie }));
  const patch = (cookie: string, id: string, body: Record<string, unknown>) => pier.fetch(`/api/triggers/${id}`, { ...json(body, { cookie }), method: "PATCH" });

  beforeAll(async () => {
    pier = await startTestPier({ PIER_ALLOW_LOCAL_REPOS: "1" });
    admin = await setUpAdmin(pier);
    expect((await pier.fetch("/api/users", json({ username: "mia", password: "member password", role: "member" }, { cookie: admin }))).status).toBe(201);
    member = await signIn(pier, "mia", "member password");
    githubRepoId = await addRepo(pier, admin, "https://github.com/octo/widgets.git", "widgets");
    plainRepoId = await addRepo(pier, admin, makeRemoteRepo("local").path, "local");
  }, 60_000);

  afterAll(() => closeForGood(pier));

  test("each kind is checked for what it needs and for what belongs to another kind, and nothing is written on refusal", async () => {
    const base = { name: "Nightly", repoId: githubRepoId, promptTemplate: "Bump the dependencies." };
    expect(await apiError(await post(admin, { ...base, kind: "schedule" }))).toMatchObject({ status: 400, code: "invalid_cron" });
    const badCron = await apiError(await post(admin, { ...base, kind: "schedule", cron: "every day" }));
    expect(badCron).toMatchObject({ status: 400, code: "invalid_cron" });
    expect(badCron.message).toStartWith("The schedule is not a cron expression croner can read");
    // One full stop, though croner's own sentence brings one.
    expect(badCron.message).toEndWith("are required.");
    expect(await apiError(await post(admin, { ...base, kind: "schedule", cron: "0 9 * * 1", label: "pier" }))).toMatchObject({ status: 400, code: "invalid_label" });
    expect(await apiError(await post(admin, { ...base, kind: "schedule", cron: "0 9 * * 1", promptTemplate: "Do {{payload.x}}" }))).toMatchObject({
      status: 400,
      code: "invalid_prompt_template",
    });
    expect(await apiError(await post(admin, { ...base, kind: "github_issue", repoId: plainRepoId }))).toEqual({
      status: 400,
      code: "invalid_repo_id",
      message: "local is not on GitHub, so a run could not open its pull request; set its GitHub repository in the repository's settings first.",
    });
    expect(await apiError(await post(admin, { ...base, kind: "github_issue", allowedLogins: ["ok", "not a login"] }))).toMatchObject({ status: 400, code: "invalid_allowed_logins" });
    expect(await apiError(await post(admin, { ...base, kind: "webhook", budgetUsd: 0 }))).toMatchObject({ status: 400, code: "invalid_budget_usd" });
    expect(await apiError(await post(admin, { ...base, kind: "webhook", budgetUsd: 5, dailyBudgetUsd: 2 }))).toMatchObject({ status: 400, code: "invalid_budget_usd" });
    expect(await apiError(await post(admin, { ...base, kind: "nightly" }))).toMatchObject({ status: 400, code: "invalid_kind" });
    expect(pier.pier.db.select().from(triggers).all()).toEqual([]);

    const made = await post(admin, { ...base, kind: "schedule", cron: "0 9 * * 1", budgetUsd: 2.5, enabled: true });
    expect(made.status).toBe(201);
    const trigger = (await made.json()) as TriggerJson;
    expect(trigger).toMatchObject({ kind: "schedule", cron: "0 9 * * 1", budgetUsd: 2.5, enabled: true, mention: null, allowedLogins: [] });
    expect(trigger.secret).toBeUndefined();

    const issue = (await (await post(admin, { ...base, kind: "github_issue", label: "pier", mention: "helper", allowedLogins: ["OctoCat", "octocat", "hubot"] })).json()) as TriggerJson;
    // A mention is a name with its @; logins are GitHub's, which ignore case.
    expect(issue).toMatchObject({ label: "pier", mention: "@helper", allowedLogins: ["octocat", "hubot"] });
    const defaulted = (await (await post(admin, { ...base, kind: "github_issue" })).json()) as TriggerJson;
    expect(defaulted.mention).toBe("@pier");
  });

  test("a webhook trigger's secret is shown once and kept only as its SHA-256", async () => {
    const res = await post(member, { kind: "webhook", name: "Deploys", repoId: githubRepoId, promptTemplate: "Investigate {{payload.error}}" });
    expect(res.status).toBe(201);
    const trigger = (await res.json()) as TriggerJson;
    expect(trigger.secret).toMatch(/^pierhook_[a-z2-7]{32}$/);
    const row = pier.pier.db.select().from(triggers).where(eq(triggers.id, trigger.id)).get()!;
    expect(row.secretHash).toBe(hashToken(trigger.secret!));
    expect(JSON.stringify(row)).not.toContain(trigger.secret!);
    const again = (await (await pier.fetch(`/api/triggers/${trigger.id}`, { headers: { cookie: member } })).json()) as TriggerJson;
    expect(again.secret).toBeUndefined();
    expect(JSON.stringify(again)).not.toContain(row.secretHash!);

    // A wrong secret, none, another trigger's id: the same 401, and nothing recorded.
    const fire = (id: string, authorization?: string) =>
      pier.fetch(`/api/triggers/${id}/fire`, json({ error: "x" }, authorization ? { authorization } : {}));
    for (const answer of [await fire(trigger.id, "Bearer pierhook_wrong"), await fire(trigger.id), await fire("nosuchtrigger", `Bearer ${trigger.secret}`)]) {
      expect(await apiError(answer)).toMatchObject({ status: 401, code: "bad_secret" });
    }
    expect(await (await pier.fetch(`/api/triggers/${trigger.id}/firings`, { headers: { cookie: member } })).json()).toEqual([]);

    // Turned off, the right secret is refused, and the refusal is recorded.
    expect((await patch(member, trigger.id, { enabled: false })).status).toBe(200);
    expect(await apiError(await fire(trigger.id, `Bearer ${trigger.secret}`))).toEqual({ status: 409, code: "trigger_disabled", message: "The trigger is turned off." });
    const firings = (await (await pier.fetch(`/api/triggers/${trigger.id}/firings`, { headers: { cookie: member } })).json()) as Array<Record<string, unknown>>;
    expect(firings).toEqual([{ id: expect.any(String), at: expect.any(String), outcome: "refused", reason: "The trigger is turned off.", runId: null, issueNumber: null }]);
    expect(pier.pier.tasks.list({ kind: "person", user: { id: row.ownerId, username: "mia", role: "member", createdAt: new Date() } })).toEqual([]);
  });

  test("a webhook trigger's secret replaced: the new one answered once and fires it, the old one refused from then on", async () => {
    const made = (await (await post(member, { kind: "webhook", name: "Rotated", repoId: githubRepoId, promptTemplate: "Look at {{payload}}", enabled: false })).json()) as TriggerJson;
    const fire = (secret: string) => pier.fetch(`/api/triggers/${made.id}/fire`, json({}, { authorization: `Bearer ${secret}` }));
    const replace = (cookie: string, id = made.id) => pier.fetch(`/api/triggers/${id}/secret`, { method: "POST", headers: { cookie } });

    const res = await replace(member);
    expect(res.status).toBe(200);
    const replaced = (await res.json()) as TriggerJson;
    expect(replaced).toMatchObject({ id: made.id, name: "Rotated", kind: "webhook" });
    expect(replaced.secret).toMatch(/^pierhook_[a-z2-7]{32}$/);
    expect(replaced.secret).not.toBe(made.secret);
    const row = pier.pier.db.select().from(triggers).where(eq(triggers.id, made.id)).get()!;
    expect(row.secretHash).toBe(hashToken(replaced.secret!));
    expect(((await (await pier.fetch(`/api/triggers/${made.id}`, { headers: { cookie: member } })).json()) as TriggerJson).secret).toBeUndefined();

    // The old secret is a stranger's now; the new one is let in (and refused only because the trigger is off).
    expect(await apiError(await fire(made.secret!))).toMatchObject({ status: 401, code: "bad_secret" });
    expect(await apiError(await fire(replaced.secret!))).toMatchObject({ status: 409, code: "trigger_disabled" });

    // An admin may replace it too; another member is told it does not exist; a schedule has no secret.
    expect((await replace(admin)).status).toBe(200);
    expect(await apiError(await fire(replaced.secret!))).toMatchObject({ status: 401, code: "bad_secret" });
    expect(await apiError(await replace(member, "nosuchtrigger"))).toMatchObject({ status: 404, code: "not_found" });
    const schedule = (await (await post(admin, { kind: "schedule", name: "No secret", repoId: githubRepoId, promptTemplate: "Tidy.", cron: "0 9 * * 1" })).json()) as TriggerJson;
    expect(await apiError(await replace(member, schedule.id))).toMatchObject({ status: 404, code: "not_found" });
    expect(await apiError(await replace(admin, schedule.id))).toMatchObject({ status: 409, code: "not_a_webhook" });
    expect(pier.pier.db.select().from(triggers).where(eq(triggers.id, schedule.id)).get()!.secretHash).toBeNull();
  });

  test("the owner and admins see and change a trigger; other members are told it does not exist", async () => {
    const mine = (await (await post(member, { kind: "schedule", name: "Mia's", repoId: githubRepoId, promptTemplate: "Tidy up.", cron: "*/5 * * * *" })).json()) as TriggerJson;
    const adminsOwn = (await (await pier.fetch("/api/triggers", { headers: { cookie: admin } })).json()) as TriggerJson[];
    const membersList = (await (await pier.fetch("/api/triggers", { headers: { cookie: member } })).json()) as TriggerJson[];
    expect(adminsOwn.map((t) => t.id)).toContain(mine.id);
    expect(membersList.every((t) => t.ownerId === mine.ownerId)).toBe(true);
    const adminTrigger = adminsOwn.find((t) => t.ownerId !== mine.ownerId)!;
    expect(await apiError(await pier.fetch(`/api/triggers/${adminTrigger.id}`, { headers: { cookie: member } }))).toMatchObject({ status: 404, code: "not_found" });
    expect((await patch(member, adminTrigger.id, { name: "Mine now" })).status).toBe(404);
    expect((await pier.fetch(`/api/triggers/${adminTrigger.id}`, { method: "DELETE", headers: { cookie: member } })).status).toBe(404);
    expect((await pier.fetch(`/api/triggers/${adminTrigger.id}/firings`, { headers: { cookie: member } })).status).toBe(404);

    // Null clears an optional field; the kind and repository stay what they were made with.
    const changed = (await (await patch(admin, mine.id, { cron: "0 0 * * *", budgetUsd: 3 })).json()) as TriggerJson;
    expect(changed).toMatchObject({ cron: "0 0 * * *", budgetUsd: 3 });
    expect(((await (await patch(member, mine.id, { budgetUsd: null })).json()) as TriggerJson).budgetUsd).toBeNull();
    expect(await apiError(await patch(member, mine.id, { cron: null }))).toMatchObject({ status: 400, code: "invalid_cron" });
    expect(await apiError(await patch(member, mine.id, { kind: "webhook" }))).toMatchObject({ status: 400, code: "invalid_kind" });
    expect(await apiError(await patch(member, mine.id, { name: "" }))).toMatchObject({ status: 400, code: "invalid_name" });
    expect((await pier.fetch(`/api/triggers/${mine.id}`, { method: "DELETE", headers: { cookie: member } })).status).toBe(204);
    expect((await pier.fetch(`/api/triggers/${mine.id}`, { headers: { cookie: member } })).status).toBe(404);
  });

  test("Settings → Automation lists a person's triggers, adds one from its form and shows a webhook's secret once", async () => {
    const page = await pier.fetch("/settings/automation", { headers: { cookie: member } });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain(">Deploys<");
    expect(html).not.toContain(">Nightly<");

    const form = new URLSearchParams({ kind: "webhook", repoId: githubRepoId, name: "From the form", promptTemplate: "Look at {{payload.a.b}}", cron: "", budgetUsd: "1.5", maxConcurrent: "", enabled: "1" });
    const added = await pier.fetch("/settings/automation", { method: "POST", headers: { cookie: member, "content-type": "application/x-www-form-urlencoded", origin: pier.url }, body: form });
    expect(added.status).toBe(200);
    const addedHtml = await added.text();
    const secret = /pierhook_[a-z2-7]{32}/.exec(addedHtml)?.[0];
    expect(secret).toBeDefined();
    const row = pier.pier.db.select().from(triggers).where(eq(triggers.name, "From the form")).get()!;
    expect(row).toMatchObject({ kind: "webhook", budgetUsd: 1.5, maxConcurrent: null, enabled: true, secretHash: hashToken(secret!) });
    const view = await (await pier.fetch(`/settings/automation/${row.id}`, { headers: { cookie: member } })).text();
    expect(view).not.toContain(secret!);
    expect(view).toContain(`/api/triggers/${row.id}/fire`);

    const bad = new URLSearchParams({ kind: "schedule", repoId: githubRepoId, name: "Bad", promptTemplate: "x", cron: "nope", enabled: "1" });
    const refused = await pier.fetch("/settings/automation", { method: "POST", headers: { cookie: member, "content-type": "application/x-www-form-urlencoded", origin: pier.url }, body: bad });
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain("The schedule is not a cron expression croner can read");
  });
});
