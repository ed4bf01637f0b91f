/**
 * The Costs page and its CSV exports, from seeded spending: each table with names (escaped), the
 * period picker's periods, what a member sees, and the monthly budget (setting, status, warning).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { budgetStatus } from "../../src/costs/budget.ts";
import { type TestPier, closeForGood, json, startTestPier } from "../support/pier.ts";
import { type Seeded, TITLES, parseCsv, seedCosts, sumsBy } from "./seed.ts";

const usd = (n: number) => `$${n.toFixed(2)}`;
const total = (rows: Seeded["rows"]) => rows.reduce((sum, row) => sum + row.costUsd, 0);
const escapeHtml = (text: string) => text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;");

describe("the Costs page", () => {
  let pier: TestPier;
  let seeded: Seeded;
  const page = async (query: string, cookie = seeded.admin.cookie) => {
    const res = await pier.fetch(`/costs${query}`, { headers: { cookie } });
    return { status: res.status, html: await res.text() };
  };
  const section = (html: string, id: string) => {
    const start = html.indexOf(`id="${id}"`);
    expect(start).toBeGreaterThan(-1);
    return html.slice(start, html.indexOf("</section>", start));
  };

  beforeAll(async () => {
    pier = await startTestPier({ PIER_ALLOW_LOCAL_REPOS: "1" });
    seeded = await seedCosts(pier);
  }, 60_000);
  afterAll(() => closeForGood(pier));

  test("an admin's page has the total, the chart's figures and a table by model, repository, person, session and task, with names", async () => {
    const { status, html } = await page("?period=custom&from=2026-01-01&to=2026-12-31");
    expect(status).toBe(200);
    expect(html).toContain('href="/costs" aria-current="page"');
    expect(html).toContain(`<p class="cost-total">${usd(total(seeded.rows))}</p>`);
    expect(html).toContain('id="cost-chart"');
    expect(html).toContain('src="/public/vendor/cost-chart.js"');
    for (const [table, keyOf, name] of [
      ["costs-by-model", (r: Seeded["rows"][number]) => r.model, (k: string) => k],
      ["costs-by-repo", (r: Seeded["rows"][number]) => r.repoId, (k: string) => (k === seeded.repos.web ? "web-app" : "api-server")],
      ["costs-by-user", (r: Seeded["rows"][number]) => r.userId, (k: string) => ({ [seeded.admin.id]: "admin", [seeded.mia.id]: "mia", [seeded.max.id]: "max" })[k]!],
      ["costs-by-session", (r: Seeded["rows"][number]) => r.sessionId, (k: string) => seeded.sessions.find((s) => s.id === k)!.title],
      ["costs-by-task", (r: Seeded["rows"][number]) => r.taskId, (k: string) => (k === seeded.tasks.login ? "Login <b>rework</b>" : "Billing export")],
    ] as const) {
      const body = section(html, table);
      for (const [key, sum] of sumsBy(seeded.rows, keyOf)) {
        expect(body).toContain(usd(sum.costUsd));
        expect(body).toContain(sum.inputTokens.toLocaleString("en-US"));
        if (key !== null) expect(body).toContain(escapeHtml(name(key)));
      }
      expect(body).toContain(`/costs/export.csv?groupBy=${table.slice("costs-by-".length)}&from=2026-01-01&to=2026-12-31`);
    }
    // Titles are text, never markup; sessions and tasks link to their pages.
    expect(html).not.toContain("<img src=x");
    expect(html).not.toContain("<b>rework</b>");
    for (const session of seeded.sessions) expect(section(html, "costs-by-session")).toContain(`href="/sessions/${session.id}"`);
    expect(section(html, "costs-by-session")).toContain("Verification reports");
    expect(section(html, "costs-by-task")).toContain(`href="/tasks/${seeded.tasks.billing}"`);
    expect(section(html, "costs-by-task")).toContain("No task");
  });

  test("this month is the default period; last 7 and 30 days end today", async () => {
    const today = seeded.rows.filter((row) => row.at.getTime() > Date.now() - 3_600_000);
    expect(today.length).toBeGreaterThan(0);
    for (const query of ["", "?period=month", "?period=7d", "?period=30d"]) {
      const { status, html } = await page(query);
      expect(status).toBe(200);
      expect(html).toContain(`<p class="cost-total">${usd(total(today))}</p>`);
    }
    const { html } = await page("");
    expect(html).toContain('<option value="month" selected>');
    const january = seeded.rows.filter((row) => row.at.toISOString().startsWith("2026-01"));
    expect((await page("?period=custom&from=2026-01-01&to=2026-01-31")).html).toContain(`<p class="cost-total">${usd(total(january))}</p>`);
    expect((await page("?from=2026-01-01&to=2026-01-31")).html).toContain(`<p class="cost-total">${usd(total(january))}</p>`);
    expect((await page("?period=custom&from=2030-01-01")).html).toContain("No spending in this period.");
  });

  test("bad periods are refused, naming the field", async () => {
    for (const [query, words] of [["?period=year", "Period must be"], ["?period=custom&from=2026-02-30", "From must be"], ["?period=custom&from=2026-03-01&to=2026-02-01", "must come after"]] as const) {
      const { status, html } = await page(query);
      expect(`${query} → ${status}`).toBe(`${query} → 400`);
      expect(html).toContain(words);
    }
  });

  test("a member's page has only their own spending and no table by person", async () => {
    const { status, html } = await page("?period=custom&from=2026-01-01&to=2026-12-31", seeded.mia.cookie);
    expect(status).toBe(200);
    const mine = seeded.rows.filter((row) => row.userId === seeded.mia.id);
    expect(html).toContain(`<p class="cost-total">${usd(total(mine))}</p>`);
    expect(html).not.toContain('id="costs-by-user"');
    for (const session of seeded.sessions) {
      expect(section(html, "costs-by-session").includes(`/sessions/${session.id}`)).toBe(session.userId === seeded.mia.id);
    }
    const csv = parseCsv(await (await pier.fetch("/costs/export.csv?groupBy=user", { headers: { cookie: seeded.mia.cookie } })).text());
    expect(csv.slice(1).map((r) => [r[0], r[1]])).toEqual([[seeded.mia.id, "mia"]]);
    expect((await pier.fetch("/costs")).status).toBe(303);
  });

  test("each table's CSV export parses, names its rows, keeps formulas as text and equals the API", async () => {
    for (const groupBy of ["model", "repo", "user", "session", "task", "day"]) {
      const res = await pier.fetch(`/costs/export.csv?groupBy=${groupBy}&from=2026-01-01&to=2026-12-31`, { headers: { cookie: seeded.admin.cookie } });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
      expect(res.headers.get("content-disposition")).toBe(`attachment; filename="pier-costs-by-${groupBy}-from-2026-01-01-to-2026-12-31.csv"`);
      const [header, ...records] = parseCsv(await res.text());
      expect(header).toEqual(["key", "name", "costUsd", "inputTokens", "outputTokens", "cacheReadTokens", "cacheWriteTokens"]);
      const api = (await (await pier.fetch(`/api/costs?groupBy=${groupBy}&from=2026-01-01&to=2026-12-31`, { headers: { cookie: seeded.admin.cookie } })).json()) as Array<Record<string, number | string | null>>;
      expect(records.map((r): unknown[] => [r[0], ...r.slice(2).map(Number)])).toEqual(
        api.map((row) => [row.key ?? "", row.costUsd, row.inputTokens, row.outputTokens, row.cacheReadTokens, row.cacheWriteTokens]),
      );
      if (groupBy === "session") {
        const names = records.map((r) => r[1]);
        expect(names).toContain(TITLES[0]!);
        expect(names).toContain(TITLES[1]!);
        // A title a spreadsheet would run is written as text; one with quotes, a comma and a line break survives whole.
        expect(names).toContain(`'${TITLES[2]!}`);
        expect(names).toContain(`'${TITLES[3]!}`);
        expect(names).not.toContain(TITLES[2]!);
      }
    }
    const bad = await pier.fetch("/costs/export.csv?groupBy=week", { headers: { cookie: seeded.admin.cookie } });
    expect(bad.status).toBe(400);
  });

  test("the monthly budget: validated, shown against this month's spending, crossed when reached, cleared when empty", async () => {
    const put = (body: unknown, cookie = seeded.admin.cookie) =>
      pier.fetch("/api/settings", { ...json(body, { cookie }), method: "PUT" });
    expect((await (await pier.fetch("/api/settings", { headers: { cookie: seeded.admin.cookie } })).json()).monthlyBudgetUsd).toBeNull();
    expect(budgetStatus(pier.pier.db)).toMatchObject({ budgetUsd: null, crossed: false });
    for (const bad of [-5, 0, "ten", "1e3", true, 10_000_001, "12,50"]) {
      const res = await put({ monthlyBudgetUsd: bad, defaultModel: "claude-opus-4-6" });
      const body = (await res.json()) as { error: { field: string; message: string } };
      expect(`${JSON.stringify(bad)} → ${res.status} ${body.error.field}`).toBe(`${JSON.stringify(bad)} → 400 monthlyBudgetUsd`);
      expect(body.error.message).toContain("Monthly budget");
    }
    // Nothing changed with a refused update.
    expect((await (await pier.fetch("/api/settings", { headers: { cookie: seeded.admin.cookie } })).json()).defaultModel).not.toBe("claude-opus-4-6");
    expect((await put({ monthlyBudgetUsd: 100 }, seeded.mia.cookie)).status).toBe(403);

    const thisMonth = total(seeded.rows.filter((row) => row.at.toISOString().slice(0, 7) === new Date().toISOString().slice(0, 7)));
    expect(thisMonth).toBeGreaterThan(0);
    const high = Math.ceil(thisMonth * 10 + 1);
    expect((await (await put({ monthlyBudgetUsd: high })).json()).monthlyBudgetUsd).toBe(high);
    let status = budgetStatus(pier.pier.db);
    expect(status.budgetUsd).toBe(high);
    expect(status.spentUsd).toBeCloseTo(thisMonth, 8);
    expect(status.crossed).toBe(false);
    let html = (await page("")).html;
    expect(html).toContain(`This month: ${usd(thisMonth)} of the ${usd(high)} budget`);
    expect(html).not.toContain("Over budget");

    expect((await put({ monthlyBudgetUsd: "0.01" })).status).toBe(200);
    status = budgetStatus(pier.pier.db);
    expect(status).toMatchObject({ budgetUsd: 0.01, crossed: true });
    html = (await page("")).html;
    expect(html).toContain("Over budget");
    // Members see the instance's budget too; the page is about their own spending but the warning is everyone's.
    expect((await page("", seeded.mia.cookie)).html).toContain("Over budget");

    // The settings form: an empty field means no budget.
    const form = await pier.fetch("/settings", {
      method: "POST",
      headers: { cookie: seeded.admin.cookie, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ monthlyBudgetUsd: "" }).toString(),
    });
    expect(form.status).toBe(200);
    expect(budgetStatus(pier.pier.db)).toMatchObject({ budgetUsd: null, crossed: false });
    const formBad = await pier.fetch("/settings", {
      method: "POST",
      headers: { cookie: seeded.admin.cookie, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ monthlyBudgetUsd: "lots" }).toString(),
    });
    expect(formBad.status).toBe(400);
    expect(await formBad.text()).toContain("Monthly budget must be");
    expect((await put({ monthlyBudgetUsd: 250.5 })).status).toBe(200);
    expect((await put({ monthlyBudgetUsd: null })).status).toBe(200);
    expect(budgetStatus(pier.pier.db).budgetUsd).toBeNull();
  });
});
