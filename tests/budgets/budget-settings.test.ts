/**
 * The budget and run settings an admin sets (API.md, "Runs"): through the API and on the settings
 * page, shown with their values, and a bad value refused with a sentence naming the setting, with
 * nothing of the update written.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type TestPier, closeForGood, json, setUpAdmin, startTestPier } from "../support/pier.ts";

type Settings = Record<string, unknown>;

describe("budget and run settings", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "pier-budget-settings-"));
  let pier: TestPier;
  let cookie: string;
  const put = (body: Settings) => pier.fetch("/api/settings", { ...json(body, { cookie }), method: "PUT" });
  const read = async () => (await (await pier.fetch("/api/settings", { headers: { cookie } })).json()) as Settings;
  const form = (body: Record<string, string>) =>
    pier.fetch("/settings", { method: "POST", headers: { cookie, "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(body).toString() });

  beforeAll(async () => {
    pier = await startTestPier({}, dataDir);
    cookie = await setUpAdmin(pier);
  }, 60_000);

  afterAll(async () => {
    await closeForGood(pier);
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  test("the API takes good values and refuses bad ones with a sentence naming the setting, changing nothing", async () => {
    const good = { sessionBudgetUsd: 2.5, monthlyBudgetHard: true, maxConcurrentRuns: 3, maxFixRounds: 0, runBudgetUsd: 4, runApprovalMinutes: 30, autoMerge: true, mergeMethod: "rebase" };
    const saved = await put(good);
    expect(saved.status).toBe(200);
    expect(await read()).toMatchObject(good);

    const bad: Array<[Settings, string, string]> = [
      [{ sessionBudgetUsd: -1 }, "invalid_session_budget_usd", "Session budget must be an amount in USD above 0"],
      [{ sessionBudgetUsd: "five" }, "invalid_session_budget_usd", "Session budget must be an amount in USD above 0"],
      [{ monthlyBudgetHard: "maybe" }, "invalid_monthly_budget_hard", "Monthly budget as a hard stop must be true or false."],
      [{ maxConcurrentRuns: 0 }, "invalid_max_concurrent_runs", "Runs at once must be a whole number from 1 to 64."],
      [{ maxFixRounds: 2.5 }, "invalid_max_fix_rounds", "Fix rounds per pull request must be a whole number from 0 to 20."],
      [{ runBudgetUsd: 0 }, "invalid_run_budget_usd", "Budget per run must be an amount in USD above 0"],
      [{ runApprovalMinutes: 100_000 }, "invalid_run_approval_minutes", "Minutes a run waits for a tool approval must be a whole number from 1 to 10080."],
      [{ autoMerge: "yes" }, "invalid_auto_merge", "Merge approved runs' pull requests must be true or false."],
      [{ mergeMethod: "octopus" }, "invalid_merge_method", 'Merge method must be "squash", "merge" or "rebase".'],
    ];
    for (const [body, code, sentence] of bad) {
      // A good value beside the bad one is not written either.
      const res = await put({ ...body, maxFixRounds: body.maxFixRounds ?? 7 });
      expect(res.status, JSON.stringify(body)).toBe(400);
      const { error } = (await res.json()) as { error: { code: string; message: string } };
      expect(error.code).toBe(code);
      expect(error.message).toStartWith(sentence);
    }
    expect(await read()).toMatchObject(good);
    // Cleared, the session budget is none again.
    await put({ sessionBudgetUsd: null });
    expect((await read()).sessionBudgetUsd).toBeNull();
  });

  test("the settings page shows each setting, saves them, and shows a bad value's error beside its field", async () => {
    await put({ sessionBudgetUsd: 1.25, monthlyBudgetHard: false, maxConcurrentRuns: 2, maxFixRounds: 3, runBudgetUsd: 10, runApprovalMinutes: 60, autoMerge: false, mergeMethod: "squash" });
    const page = await (await pier.fetch("/settings", { headers: { cookie } })).text();
    expect(page).toMatch(/<input id="field-sessionBudgetUsd" name="sessionBudgetUsd" type="text" value="1.25"/);
    expect(page).toMatch(/<input id="field-maxConcurrentRuns" name="maxConcurrentRuns" type="number" value="2"/);
    expect(page).toMatch(/<input id="field-maxFixRounds" name="maxFixRounds" type="number" value="3"/);
    expect(page).toMatch(/<input id="field-runBudgetUsd" name="runBudgetUsd" type="text" value="10"/);
    expect(page).toMatch(/<input id="field-runApprovalMinutes" name="runApprovalMinutes" type="number" value="60"/);
    for (const [name, chosen] of [["monthlyBudgetHard", "false"], ["autoMerge", "false"], ["mergeMethod", "squash"]]) {
      const select = page.slice(page.indexOf(`<select id="field-${name}" name="${name}"`));
      expect(select.length).toBeLessThan(page.length);
      expect(select.slice(0, select.indexOf("</select>"))).toMatch(new RegExp(`<option value="${chosen}" selected>`));
    }

    const saved = await form({ sessionBudgetUsd: "", monthlyBudgetHard: "true", maxConcurrentRuns: "4", maxFixRounds: "5", runBudgetUsd: "12.5", runApprovalMinutes: "15", autoMerge: "true", mergeMethod: "merge" });
    expect(saved.status).toBe(200);
    expect(await saved.text()).toContain("Settings saved.");
    expect(await read()).toMatchObject({ sessionBudgetUsd: null, monthlyBudgetHard: true, maxConcurrentRuns: 4, maxFixRounds: 5, runBudgetUsd: 12.5, runApprovalMinutes: 15, autoMerge: true, mergeMethod: "merge" });

    const refused = await form({ sessionBudgetUsd: "-3", maxConcurrentRuns: "6" });
    expect(refused.status).toBe(400);
    const shown = await refused.text();
    expect(shown).toContain('id="field-sessionBudgetUsd-error"');
    expect(shown).toContain("Session budget must be an amount in USD above 0 and at most 10000000, or empty for none.");
    // What was typed stays in the form to be corrected; nothing of it was saved.
    expect(shown).toMatch(/name="sessionBudgetUsd" type="text" value="-3"/);
    expect(await read()).toMatchObject({ sessionBudgetUsd: null, maxConcurrentRuns: 4 });
  });
});
