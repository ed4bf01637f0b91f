import { Elysia } from "elysia";
import { invalid } from "../../infra/errors.ts";
import { asInput } from "../../infra/input.ts";
import type { Pier } from "../../pier.ts";
import { requireActor, requireUser } from "../auth.ts";
import { eventStream } from "../event-stream.ts";

/** What a person's pages show of "needs you": how many of their sessions, and which. */
export interface NeedsYou {
  count: number;
  sessions: Array<{ id: string; title: string; repo: string; attention: string }>;
}

export function needsYou(pier: Pier, userId: string): NeedsYou {
  const sessions = pier.attention.needing(userId).map((s) => ({ id: s.id, title: s.title, repo: pier.repos.get(s.repoId).name, attention: s.attention! }));
  return { count: sessions.length, sessions };
}

/**
 * "Needs you": which of your sessions need you (now, and as server-sent events whenever that
 * changes), a page saying you look at a session or stopped, and your outgoing webhook.
 */
export function attentionApi(pier: Pier) {
  return new Elysia()
    .get("/api/attention", (ctx) => needsYou(pier, requireUser(pier, ctx).id))
    .get("/api/attention/events", (ctx) => {
      const user = requireUser(pier, ctx);
      return eventStream<NeedsYou>(pier.bus, ctx.request.signal, (send) => {
        send(needsYou(pier, user.id));
        const changed = ({ userId }: { userId: string }) => {
          if (userId === user.id) send(needsYou(pier, user.id));
        };
        return [pier.bus.subscribe("session.attention", null, changed), pier.bus.subscribe("session.state", null, changed)];
      });
    })
    .post("/api/sessions/:id/seen", (ctx) => {
      const body = ctx.body === undefined || ctx.body === null || ctx.body === "" ? {} : asInput(ctx.body);
      const looking = body.looking ?? true;
      if (typeof looking !== "boolean") throw invalid("looking", "Looking must be true or false.");
      pier.attention.seen(requireActor(pier, ctx), ctx.params.id, looking);
      ctx.set.status = 204;
      return "";
    })
    .get("/api/me/notifications", (ctx) => pier.webhooks.view(requireActor(pier, ctx)))
    .put("/api/me/notifications", (ctx) => pier.webhooks.update(requireActor(pier, ctx), asInput(ctx.body), new URL(ctx.request.url).origin));
}

/**
 * The dashboard's live feed: a nudge whenever something it shows of the person changes (a session
 * starting, ending or needing them, its cost, a turn ending, a pull request, one of their runs
 * moving on), after which the page
 * fetches its live part again. It carries nothing itself, so it can never show what the person
 * may not see.
 */
export function dashboardEvents(pier: Pier) {
  return new Elysia().get("/api/dashboard/events", (ctx) => {
    const user = requireUser(pier, ctx);
    const owns = (sessionId: string) => pier.sessions.findLive(sessionId)?.userId === user.id;
    return eventStream<{ type: "hello" | "changed" }>(pier.bus, ctx.request.signal, (send) => {
      send({ type: "hello" });
      const changed = () => send({ type: "changed" });
      return [
        pier.bus.subscribe("session.state", null, ({ userId }) => userId === user.id && changed()),
        pier.bus.subscribe("session.attention", null, ({ userId }) => userId === user.id && changed()),
        pier.bus.subscribe("session.cost", null, (_cost, sessionId) => owns(sessionId) && changed()),
        pier.bus.subscribe("pr.updated", null, ({ sessionId }) => owns(sessionId) && changed()),
        pier.bus.subscribe("chat.event", null, (event, sessionId) => event.type === "turn_end" && owns(sessionId) && changed()),
        pier.bus.subscribe("run.changed", null, ({ run }) => run.userId === user.id && changed()),
      ];
    });
  });
}
