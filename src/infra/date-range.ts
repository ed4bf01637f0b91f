import { invalid } from "./errors.ts";

/**
 * A period as URLs give it: `from` and `to`, each optional, each an ISO date (2026-11-22) or
 * date-time (2026-11-22T09:30:00Z). A date alone as `to` takes in that whole day (UTC), so
 * `from=2026-11-01&to=2026-11-30` is all of November. The session history and the cost report
 * read their periods here, so both accept and refuse exactly the same text.
 */
export interface DateRange {
  /** Inclusive, in milliseconds since the epoch; null when open. */
  from: number | null;
  /** Exclusive, in milliseconds since the epoch; null when open. */
  to: number | null;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;
const DAY_MS = 86_400_000;

/** Reads both ends; bad text, or an end not after the start, is a 400 naming the field. */
export function readDateRange(query: { from?: string; to?: string }): DateRange {
  const from = query.from === undefined ? null : moment("from", query.from, false);
  const to = query.to === undefined ? null : moment("to", query.to, true);
  if (from !== null && to !== null && from >= to) throw invalid("to", "The end of the date range must come after its start.");
  return { from, to };
}

/** A date or date-time as milliseconds; a date alone as `to` means the start of the next day. */
function moment(field: "from" | "to", text: string, endOfDay: boolean): number {
  // Date.parse rolls impossible dates over (2026-02-31 is 3 March); a round trip catches them.
  const ms = DATE.test(text) ? dayStart(text) + (endOfDay ? DAY_MS : 0) : DATE_TIME.test(text) ? Date.parse(text) : NaN;
  if (Number.isNaN(ms)) throw invalid(field, `${field === "from" ? "From" : "To"} must be a date such as 2026-11-22 or a date-time such as 2026-11-22T09:30:00Z.`);
  return ms;
}

function dayStart(date: string): number {
  const ms = Date.parse(`${date}T00:00:00Z`);
  return Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== date ? NaN : ms;
}
