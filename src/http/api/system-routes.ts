import { Elysia } from "elysia";
import type { Pier } from "../../pier.ts";
import { requireAdmin } from "../auth.ts";

const startedAt = Date.now();

/** /healthz for load balancers and the container HEALTHCHECK; /metrics for Prometheus. */
export function systemRoutes(pier: Pier) {
  return new Elysia()
    .get("/healthz", async ({ set }) => {
      const dbOk = pier.databaseAnswers();
      if (!dbOk) set.status = 503;
      // An engine that does not answer is ok:false but still a 200: Pier itself serves on
      // (history, chats, costs), and a 503 would have the container's HEALTHCHECK restart a Pier
      // that a restart cannot mend. (README, "Run it with Docker", says so.)
      // With several engines, `engine` is "unreachable" while any one is, and dockerEngines says which.
      const states = (await pier.runtime.engineStates?.()) ?? null;
      const engine = states ? (states.every((one) => one.answers) ? "ok" : "unreachable") : undefined;
      return {
        ok: dbOk && engine !== "unreachable",
        db: dbOk ? "ok" : "error",
        ...(engine ? { engine } : {}),
        ...(states ? { dockerEngines: Object.fromEntries(states.map((one) => [one.name, one.answers ? "ok" : "unreachable"])) } : {}),
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
