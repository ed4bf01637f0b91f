import { type DateRange, readDateRange } from "../infra/date-range.ts";
import { invalid } from "../infra/errors.ts";

export const PERIODS = { month: "This month", "7d": "Last 7 days", "30d": "Last 30 days", custom: "Custom" } as const;
export type PeriodName = keyof typeof PERIODS;

/** The period the Costs page shows: a named one, or custom dates (either end may be open). */
export interface CostPeriod {
  name: PeriodName;
  /** The first day, YYYY-MM-DD, or "" for no start. */
  from: string;
  /** The last day (taken in whole), YYYY-MM-DD, or "" for no end. */
  to: string;
  range: DateRange;
}

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/**
 * The Costs page's period from its query: `period` = month (the default: the first of this month
 * to today), 7d, 30d (ending today) or custom with `from`/`to` dates, read by the same rules as
 * everywhere else (a date as `to` takes in that whole day). Days are UTC.
 */
export function readCostPeriod(query: { period?: string; from?: string; to?: string }, now = new Date()): CostPeriod {
  const name = (query.period || (query.from || query.to ? "custom" : "month")) as PeriodName;
  if (!Object.hasOwn(PERIODS, name)) throw invalid("period", "Period must be month, 7d, 30d or custom.");
  const today = day(now.getTime());
  let from = "";
  let to = today;
  if (name === "month") from = `${today.slice(0, 7)}-01`;
  else if (name === "7d") from = day(now.getTime() - 6 * 86_400_000);
  else if (name === "30d") from = day(now.getTime() - 29 * 86_400_000);
  else {
    from = query.from ?? "";
    to = query.to ?? "";
  }
  const range = readDateRange({ from: from || undefined, to: to || undefined });
  return { name, from: from.slice(0, 10), to: to.slice(0, 10), range };
}

/** Every day of a closed period, oldest first (the latest `max` of them), for the chart's x axis. */
export function daysOf(range: DateRange, max = 366): string[] {
  if (range.from === null || range.to === null) return [];
  const days: string[] = [];
  // A far-off start (year 1) must not cost a loop over every day since: start at most `max` days back.
  const first = Date.parse(`${day(Math.max(range.from, range.to - max * 86_400_000))}T00:00:00Z`);
  for (let at = first; at < range.to; at += 86_400_000) days.push(day(at));
  return days.slice(-max);
}
