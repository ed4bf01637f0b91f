import { Elysia } from "elysia";
import { AUDIT_QUERY_FIELDS, type AuditQuery } from "../../audit/audit-query.ts";
import { type AuditRow, publicAuditEntry } from "../../audit/entry.ts";
import { type CsvCell, csvRecords, toCsv } from "../../infra/csv.ts";
import { invalid } from "../../infra/errors.ts";
import type { Pier } from "../../pier.ts";
import { requireActor } from "../auth.ts";
import { urlQuery } from "../url-query.ts";

const COLUMNS = ["id", "at", "actorKind", "actorId", "actorName", "action", "targetKind", "targetId", "targetName", "detail", "address"] as const;

/**
 * GET /api/audit, for admins: a page of entries newest first with a `Link` to the next, as the
 * session history answers; `format=csv` the same page as CSV, or, without `limit`, every entry the
 * filters take, written a batch at a time.
 */
export function auditApi(pier: Pier) {
  return new Elysia({ prefix: "/api" }).get("/audit", (ctx) => {
    const actor = requireActor(pier, ctx);
    const { format, ...query } = urlQuery(ctx.request, [...AUDIT_QUERY_FIELDS, "format"]);
    // Whom it is for and what it asks are checked (403, 400) before anything is read or sent.
    if (format === "csv" && query.limit === undefined) return csvResponse(pier.audit.everyEntry(actor, query), query);
    const page = pier.audit.page(actor, query);
    if (format !== undefined && format !== "json" && format !== "csv") throw invalid("format", "Format must be json or csv.");
    if (page.next) {
      const next = new URL(ctx.request.url);
      next.searchParams.set("cursor", page.next);
      ctx.set.headers.link = `<${next.pathname}${next.search}>; rel="next"`;
    }
    return format === "csv" ? csvResponse([page.entries], query) : page.entries.map(publicAuditEntry);
  });
}

/** The entries as CSV, one column per field (the actor's and the target's spread out), streamed batch by batch. */
function csvResponse(batches: Iterable<AuditRow[]>, query: AuditQuery): Response {
  const iterator = batches[Symbol.iterator]();
  const encoder = new TextEncoder();
  let first = true;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      const next = iterator.next();
      if (next.done) return controller.close();
      const rows = next.value.map(csvRow);
      controller.enqueue(encoder.encode(first ? toCsv(COLUMNS, rows) : csvRecords(rows)));
      first = false;
    },
  });
  return new Response(body, {
    headers: { "content-type": "text/csv; charset=utf-8", "content-disposition": `attachment; filename="${csvName(query)}"`, "cache-control": "no-store" },
  });
}

function csvRow(row: AuditRow): CsvCell[] {
  const entry = publicAuditEntry(row);
  return [entry.id, entry.at, entry.actor.kind, entry.actor.id, entry.actor.name, entry.action, entry.target?.kind ?? null, entry.target?.id ?? null, entry.target?.name ?? null, entry.detail, entry.address];
}

/** pier-audit-from-2026-11-01-to-2026-11-30.csv; the query is already checked, so only its dates are used. */
function csvName(query: AuditQuery): string {
  const day = (text: string | undefined) => text?.slice(0, 10);
  const span = [day(query.from) && `from-${day(query.from)}`, day(query.to) && `to-${day(query.to)}`].filter(Boolean).join("-");
  return `pier-audit${span ? `-${span}` : ""}.csv`;
}
