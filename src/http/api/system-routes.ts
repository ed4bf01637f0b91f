import { Elysia } from "elysia";
import { pingDatabase } from "../../infra/db.ts";
import type { Pier } from "../../pier.ts";
import { requireAdmin } from "../auth.ts";

const startedAt = Date.now();

/** /healthz for load balancers and the container HEALTHCHECK; /metrics for Prometheus. */
export function systemRoutes(pier: Pier) {
  return new Elysia()
    .get("/healthz", ({ set }) => {
      const dbOk = pingDatabase(pier.db);
      if (!dbOk) set.status = 503;
      return {
        ok: dbOk,
        db: dbOk ? "ok" : "error",
        runtime: pier.runtime.kind,
        version: pier.version,
        uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
      };
    })
    .get("/metrics", async (ctx) => {
      if (!pier.config.metricsPublic) requireAdmin(pier, ctx);
      return new Response(await pier.metrics.render(), { headers: { "content-type": pier.metrics.contentType } });
    });
}
