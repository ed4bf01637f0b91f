import { Elysia } from "elysia";
import { readInput } from "../../infra/input.ts";
import type { Pier } from "../../pier.ts";
import { StartRunsBody } from "../../runs/run-input.ts";
import { requireActor } from "../auth.ts";

/** Unattended runs: started on a task, listed, followed, stopped, paused and resumed, one attempt picked. */
export function runApi(pier: Pier) {
  const { runs } = pier;
  return new Elysia({ prefix: "/api" })
    .post("/tasks/:id/runs", async (ctx) => {
      const started = await runs.start(requireActor(pier, ctx), ctx.params.id, readInput(StartRunsBody, ctx.body));
      ctx.set.status = 201;
      return started;
    })
    .get("/runs", (ctx) => {
      const url = new URL(ctx.request.url);
      // Read from the URL itself: a field given twice is refused, not silently one of the two.
      const query = Object.fromEntries([...new Set(url.searchParams.keys())].map((key) => [key, url.searchParams.getAll(key).length > 1 ? url.searchParams.getAll(key) : url.searchParams.get(key)]));
      const page = runs.query(requireActor(pier, ctx), query);
      if (page.next) {
        const next = new URL(url);
        next.searchParams.set("cursor", page.next);
        ctx.set.headers.link = `<${next.pathname}${next.search}>; rel="next"`;
      }
      return page.runs;
    })
    .get("/runs/:id", (ctx) => runs.get(requireActor(pier, ctx), ctx.params.id))
    .post("/runs/:id/stop", (ctx) => runs.stop(requireActor(pier, ctx), ctx.params.id))
    .post("/runs/:id/pause", (ctx) => runs.setPaused(requireActor(pier, ctx), ctx.params.id, true))
    .post("/runs/:id/resume", (ctx) => runs.setPaused(requireActor(pier, ctx), ctx.params.id, false))
    .post("/runs/:id/pick", (ctx) => runs.pick(requireActor(pier, ctx), ctx.params.id));
}
