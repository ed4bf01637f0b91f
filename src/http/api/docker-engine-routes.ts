import { Elysia } from "elysia";
import { DockerEngineChangesInput, NewDockerEngineInput } from "../../docker-engines/engine-input.ts";
import { type DockerEngine, publicEngine } from "../../docker-engines/docker-engines.ts";
import { PlacedRuntime } from "../../docker-engines/placed-runtime.ts";
import { readInput } from "../../infra/input.ts";
import type { Pier } from "../../pier.ts";
import { requireActor } from "../auth.ts";

/** The Docker engines pods are placed on: anyone signed in reads them (never their TLS files); admins add, change and remove them. */
export function dockerEngineApi(pier: Pier) {
  const engines = pier.dockerEngines;
  const shown = (engine: DockerEngine) => {
    const runtime = pier.runtime;
    const state = runtime instanceof PlacedRuntime ? (runtime.engineDown(engine.id) ? "unreachable" : "ok") : null;
    return publicEngine(engine, engines.podCounts().get(engine.id) ?? 0, state);
  };
  return new Elysia({ prefix: "/api/config/docker-engines" })
    .get("/", (ctx) => {
      requireActor(pier, ctx);
      return engines.list().map(shown);
    })
    .post("/", async (ctx) => {
      const engine = await engines.create(requireActor(pier, ctx), readInput(NewDockerEngineInput, ctx.body));
      ctx.set.status = 201;
      return shown(engine);
    })
    .get("/:id", (ctx) => {
      requireActor(pier, ctx);
      return shown(engines.get(ctx.params.id));
    })
    .patch("/:id", async (ctx) => shown(await engines.update(requireActor(pier, ctx), ctx.params.id, readInput(DockerEngineChangesInput, ctx.body))))
    .delete("/:id", (ctx) => {
      engines.remove(requireActor(pier, ctx), ctx.params.id);
      ctx.set.status = 204;
    });
}
