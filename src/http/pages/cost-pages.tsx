import { Elysia } from "elysia";
import { personActor } from "../../auth/actor.ts";
import { daysOf, readCostPeriod } from "../../costs/cost-period.ts";
import { readCostGroup } from "../../costs/cost-report.ts";
import { toCsv } from "../../infra/csv.ts";
import type { Pier } from "../../pier.ts";
import { CostsPage } from "../../../views/cost-views.tsx";
import { urlQuery } from "../url-query.ts";
import { pageUser } from "./respond.ts";

/** The Costs page, and each of its tables as CSV with names beside the ids. */
export function costPages(pier: Pier) {
  return new Elysia()
    .get("/costs", (ctx) => {
      const viewer = pageUser(pier, ctx);
      const period = readCostPeriod(urlQuery(ctx.request, ["period", "from", "to"]));
      const overview = pier.costs.overview(personActor(viewer), period.range);
      return (
        <CostsPage viewer={viewer} runtime={pier.runtime.kind} period={period} overview={overview} budget={pier.costs.budget()}
          days={daysOf(period.range)} />
      );
    })
    .get("/costs/export.csv", (ctx) => {
      const viewer = pageUser(pier, ctx);
      const query = urlQuery(ctx.request, ["groupBy", "from", "to"]);
      const groupBy = readCostGroup(query.groupBy);
      const rows = pier.costs.reportWithNames(personActor(viewer), query);
      const csv = toCsv(
        ["key", "name", "costUsd", "inputTokens", "outputTokens", "cacheReadTokens", "cacheWriteTokens"],
        rows.map((row) => [row.key, row.name, row.costUsd, row.inputTokens, row.outputTokens, row.cacheReadTokens, row.cacheWriteTokens]),
      );
      const span = [query.from && `from-${query.from.slice(0, 10)}`, query.to && `to-${query.to.slice(0, 10)}`].filter(Boolean).join("-");
      return new Response(csv, {
        headers: {
          "content-type": "text/csv; charset=utf-8",
          "content-disposition": `attachment; filename="pier-costs-by-${groupBy}${span ? `-${span}` : ""}.csv"`,
        },
      });
    });
}
