import { Elysia } from "elysia";
import { PriceInput } from "../../costs/costs.ts";
import type { CostRow } from "../../costs/cost-report.ts";
import { toCsv } from "../../infra/csv.ts";
import { invalid } from "../../infra/errors.ts";
import { readInput } from "../../infra/input.ts";
import type { Pier } from "../../pier.ts";
import { requireActor, requireUser } from "../auth.ts";
import { urlQuery } from "../url-query.ts";

const COLUMNS = ["key", "costUsd", "inputTokens", "outputTokens", "cacheReadTokens", "cacheWriteTokens"] as const satisfies ReadonlyArray<keyof CostRow>;

/** Spending (admins see everyone's, members their own) and the price table. */
export function costApi(pier: Pier) {
  return new Elysia({ prefix: "/api" })
    .get("/costs", (ctx) => {
      const actor = requireActor(pier, ctx);
      const { format = "json", ...query } = urlQuery(ctx.request, ["from", "to", "groupBy", "format"]);
      if (format !== "json" && format !== "csv") throw invalid("format", "format must be json or csv.");
      const rows = pier.costs.report(actor, query);
      if (format === "json") return rows;
      return new Response(toCsv(COLUMNS, rows.map((row) => COLUMNS.map((column) => row[column]))), {
        headers: {
          "content-type": "text/csv; charset=utf-8",
          "content-disposition": `attachment; filename="${csvName(query)}"`,
        },
      });
    })
    .get("/prices", (ctx) => {
      requireUser(pier, ctx);
      return pier.costs.prices();
    })
    .put("/prices", (ctx) => pier.costs.setPrice(requireActor(pier, ctx), readInput(PriceInput, ctx.body)));
}

/** pier-costs-by-model-2026-11-01-to-2026-11-30.csv; the query is already checked, so only its dates are used. */
function csvName(query: { groupBy?: string; from?: string; to?: string }): string {
  const day = (text: string | undefined) => text?.slice(0, 10);
  const span = [day(query.from) && `from-${day(query.from)}`, day(query.to) && `to-${day(query.to)}`].filter(Boolean).join("-");
  return `pier-costs-by-${query.groupBy ?? "day"}${span ? `-${span}` : ""}.csv`;
}
