import type { BudgetStatus } from "../src/costs/budget.ts";
import type { NamedCostRow } from "../src/costs/cost-names.ts";
import type { CostOverview, CostTable } from "../src/costs/cost-overview.ts";
import { type CostPeriod, PERIODS } from "../src/costs/cost-period.ts";
import type { CostGroup, CostRow } from "../src/costs/cost-report.ts";
import { Layout, type Viewer } from "./layout.tsx";
import { formatUsd } from "./components.tsx";

export interface CostsPageProps {
  viewer: Viewer;
  runtime: "docker" | "local";
  period: CostPeriod;
  overview: CostOverview;
  budget: BudgetStatus;
  /** The x axis of the chart: every day of the period (or the days with spending when it is open-ended). */
  days: string[];
}

const tokens = (n: number) => n.toLocaleString("en-US");

/** The Costs page: a period, its total against the budget, a chart by day stacked by model, and tables by what spent it. */
export function CostsPage(props: CostsPageProps) {
  const { overview, period } = props;
  const admin = props.viewer.role === "admin";
  const span = period.from || period.to ? `${period.from || "the start"} – ${period.to || "now"}` : "all time";
  return (
    <Layout title="Costs" viewer={props.viewer} runtime={props.runtime} current="/costs"
      styles={["/public/vendor/uPlot.min.css", "/public/costs.css"]} scripts={["/public/vendor/cost-chart.js"]}>
      <h1>Costs</h1>
      <p class="muted">{admin ? "Everyone's model spending." : "Your own model spending."} Days are UTC.</p>
      <PeriodPicker period={period} />
      <section class="card cost-summary" aria-label="Total">
        <div>
          <p class="cost-total" safe>{formatUsd(overview.total.costUsd)}</p>
          <p class="muted" safe>{`${PERIODS[period.name]}, ${span}`}</p>
        </div>
        <dl class="cost-tokens">
          <TokenFact label="Input tokens" value={overview.total.inputTokens} />
          <TokenFact label="Output tokens" value={overview.total.outputTokens} />
          <TokenFact label="Cache read tokens" value={overview.total.cacheReadTokens} />
          <TokenFact label="Cache write tokens" value={overview.total.cacheWriteTokens} />
        </dl>
        <BudgetMeter budget={props.budget} admin={admin} />
      </section>
      <section class="card" aria-labelledby="cost-chart-title">
        <h2 id="cost-chart-title">By day and model</h2>
        {overview.daily.length === 0 ? (
          <p class="empty">No spending in this period.</p>
        ) : (
          <>
            <div class="cost-chart" id="cost-chart" data-chart={JSON.stringify(chartData(props.days, overview.daily))} role="img"
              aria-label="Spending per day, stacked by model; the table below has the figures."></div>
            <details>
              <summary>Figures by day</summary>
              <DailyTable daily={overview.daily} />
            </details>
          </>
        )}
      </section>
      <CostTableCard title="By model" groupBy="model" table={overview.byModel} period={period} />
      <CostTableCard title="By repository" groupBy="repo" table={overview.byRepo} period={period} />
      {overview.byUser ? <CostTableCard title="By person" groupBy="user" table={overview.byUser} period={period} /> : ""}
      <CostTableCard title="By session" groupBy="session" table={overview.bySession} period={period} />
      <CostTableCard title="By task" groupBy="task" table={overview.byTask} period={period}
        note="A task's spending is its sessions' while they were linked to it, and its verification reports'." />
    </Layout>
  );
}

function PeriodPicker(props: { period: CostPeriod }) {
  const { period } = props;
  return (
    <form method="get" action="/costs" class="card period-picker" aria-label="Period">
      <div class="field">
        <label for="period">Period</label>
        <select id="period" name="period">
          {Object.entries(PERIODS).map(([value, label]) => (
            <option value={value} selected={value === period.name}>
              {label}
            </option>
          ))}
        </select>
      </div>
      <div class="field">
        <label for="from">From</label>
        <input id="from" name="from" type="date" value={period.name === "custom" ? period.from : ""} placeholder={period.from} />
      </div>
      <div class="field">
        <label for="to">To</label>
        <input id="to" name="to" type="date" value={period.name === "custom" ? period.to : ""} placeholder={period.to} />
      </div>
      <button type="submit">Show</button>
      <p class="hint">From and to are used with Custom; a day given as To is counted whole.</p>
    </form>
  );
}

function TokenFact(props: { label: string; value: number }) {
  return (
    <div>
      <dt safe>{props.label}</dt>
      <dd safe>{tokens(props.value)}</dd>
    </div>
  );
}

function BudgetMeter(props: { budget: BudgetStatus; admin: boolean }) {
  const { budget } = props;
  if (budget.budgetUsd === null) {
    return props.admin ? (
      <p class="hint cost-budget">
        No monthly budget is set. <a href="/settings#field-monthlyBudgetUsd">Set one in Settings</a> to be warned when spending reaches it.
      </p>
    ) : (
      ""
    );
  }
  const share = Math.min(budget.spentUsd / budget.budgetUsd, 1);
  return (
    <div class={budget.crossed ? "cost-budget cost-budget-crossed" : "cost-budget"}>
      <label for="budget-meter" safe>
        {`This month: ${formatUsd(budget.spentUsd)} of the ${formatUsd(budget.budgetUsd)} budget (${Math.round((budget.spentUsd / budget.budgetUsd) * 100)}%)`}
      </label>
      <meter id="budget-meter" min="0" max="1" low="0.8" high="0.99" optimum="0" value={String(share)}></meter>
      {budget.crossed ? <BudgetWarning budget={budget} /> : ""}
    </div>
  );
}

/** The warning for a crossed monthly budget, for the Costs page and the dashboard; empty when not crossed. */
export function BudgetWarning(props: { budget: BudgetStatus }) {
  const { budget } = props;
  if (!budget.crossed || budget.budgetUsd === null) return "";
  return (
    <p class="notice-warn budget-warning" role="status">
      <strong>Over budget.</strong>{" "}
      <span safe>{`This month's spending, ${formatUsd(budget.spentUsd)}, has reached the monthly budget of ${formatUsd(budget.budgetUsd)}.`}</span>{" "}
      <a href="/costs">See costs</a>
    </p>
  );
}

/** What the chart script draws: the days, the models, and each model's spending per day. */
function chartData(days: string[], daily: CostOverview["daily"]) {
  const axis = days.length ? days : [...new Set(daily.map((row) => row.day))].sort();
  const at = new Map(axis.map((day, i) => [day, i]));
  const models = [...new Set(daily.map((row) => row.model))].sort();
  const costs = models.map(() => axis.map(() => 0));
  for (const row of daily) {
    const i = at.get(row.day);
    if (i !== undefined) costs[models.indexOf(row.model)]![i] = row.costUsd;
  }
  return { days: axis, models, costs };
}

function DailyTable(props: { daily: CostOverview["daily"] }) {
  return (
    <div class="table-scroll">
      <table class="costs" aria-label="Spending by day and model">
        <thead>
          <tr>
            <th scope="col">Day</th>
            <th scope="col">Model</th>
            <th scope="col" class="num">Cost</th>
          </tr>
        </thead>
        <tbody>
          {props.daily.map((row) => (
            <tr>
              <td safe>{row.day}</td>
              <td class="mono" safe>{row.model}</td>
              <td class="num" safe>{formatUsd(row.costUsd)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

const NAME_HEAD: Record<Exclude<CostGroup, "day">, string> = { model: "Model", repo: "Repository", user: "Person", session: "Session", task: "Task" };
const NO_KEY: Record<Exclude<CostGroup, "day">, string> = { model: "–", repo: "No repository", user: "–", session: "Verification reports", task: "No task" };

function CostTableCard(props: { title: string; groupBy: Exclude<CostGroup, "day">; table: CostTable; period: CostPeriod; note?: string }) {
  const { table, groupBy, period } = props;
  const query = new URLSearchParams({ groupBy, ...(period.from ? { from: period.from } : {}), ...(period.to ? { to: period.to } : {}) });
  const id = `costs-by-${groupBy}`;
  return (
    <section class="card" aria-labelledby={`${id}-title`} id={id}>
      <div class="card-head">
        <h2 id={`${id}-title`} safe>{props.title}</h2>
        <a href={`/costs/export.csv?${query}`}>
          Export CSV
        </a>
      </div>
      {props.note ? <p class="hint" safe>{props.note}</p> : ""}
      {table.rows.length === 0 ? (
        <p class="empty">No spending in this period.</p>
      ) : (
        <div class="table-scroll">
          <table class="costs" aria-label={`Costs ${props.title.toLowerCase()}`}>
            <thead>
              <tr>
                <th scope="col" safe>{NAME_HEAD[groupBy]}</th>
                <th scope="col" class="num">Cost</th>
                <th scope="col" class="num">Input</th>
                <th scope="col" class="num">Output</th>
                <th scope="col" class="num">Cache read</th>
                <th scope="col" class="num">Cache write</th>
              </tr>
            </thead>
            <tbody>
              {table.rows.map((row) => (
                <tr>
                  <td class="cost-name">
                    <RowName row={row} groupBy={groupBy} />
                  </td>
                  <CostCells row={row} />
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {table.count > table.rows.length ? (
        <p class="hint" safe>{`The ${table.rows.length} largest of ${table.count}; the CSV has them all.`}</p>
      ) : (
        ""
      )}
    </section>
  );
}

function RowName(props: { row: NamedCostRow; groupBy: Exclude<CostGroup, "day"> }) {
  const { row, groupBy } = props;
  if (row.key === null) return <span class="muted" safe>{NO_KEY[groupBy]}</span>;
  if (row.name === null) return <span class="muted" safe>{`(removed) ${row.key}`}</span>;
  if (groupBy === "session") return <a href={`/sessions/${encodeURIComponent(row.key)}`} safe>{row.name}</a>;
  if (groupBy === "task") return <a href={`/tasks/${encodeURIComponent(row.key)}`} safe>{row.name}</a>;
  if (groupBy === "repo") return <a href={`/repos/${encodeURIComponent(row.key)}`} safe>{row.name}</a>;
  return <span class={groupBy === "model" ? "mono" : undefined} safe>{row.name}</span>;
}

function CostCells(props: { row: CostRow }) {
  const { row } = props;
  return (
    <>
      <td class="num" safe>{formatUsd(row.costUsd)}</td>
      <td class="num" safe>{tokens(row.inputTokens)}</td>
      <td class="num" safe>{tokens(row.outputTokens)}</td>
      <td class="num" safe>{tokens(row.cacheReadTokens)}</td>
      <td class="num" safe>{tokens(row.cacheWriteTokens)}</td>
    </>
  );
}
