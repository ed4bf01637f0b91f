import { Elysia } from "elysia";
import { PriceInput, costReport, listPrices, setPrice } from "../../costs/costs.ts";
import { readInput } from "../../infra/input.ts";
import type { Pier } from "../../pier.ts";
import { requireActor, requireUser } from "../auth.ts";

/** Spending (admins see everyone's, members their own) and the price table. */
export function costApi(pier: Pier) {
  return new Elysia({ prefix: "/api" })
    .get("/costs", (ctx) => {
      return costReport(pier.db, requireActor(pier, ctx), ctx.query as Record<string, string | undefined>);
    })
    .get("/prices", (ctx) => {
      requireUser(pier, ctx);
      return listPrices(pier.db);
    })
    .put("/prices", (ctx) => setPrice(pier.db, requireActor(pier, ctx), readInput(PriceInput, ctx.body)));
}
