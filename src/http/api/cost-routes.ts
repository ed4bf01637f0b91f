import { Elysia } from "elysia";
import { costReport, listPrices, setPrice } from "../../costs/costs.ts";
import { asInput } from "../../infra/input.ts";
import type { Pier } from "../../pier.ts";
import { requireAdmin, requireUser } from "../auth.ts";

/** Spending (admins see everyone's, members their own) and the price table. */
export function costApi(pier: Pier) {
  return new Elysia({ prefix: "/api" })
    .get("/costs", (ctx) => {
      const user = requireUser(pier, ctx);
      const query = ctx.query as Record<string, string | undefined>;
      return costReport(pier.db, query, user.role === "admin" ? undefined : user.id);
    })
    .get("/prices", (ctx) => {
      requireUser(pier, ctx);
      return listPrices(pier.db);
    })
    .put("/prices", (ctx) => {
      requireAdmin(pier, ctx);
      return setPrice(pier.db, asInput(ctx.body));
    });
}
