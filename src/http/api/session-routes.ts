import { Elysia } from "elysia";
import { AppError } from "../../infra/errors.ts";
import type { Pier } from "../../pier.ts";
import { LinkTaskInput, StartSessionInput, publicSession } from "../../sessions/sessions.ts";
import { readInput } from "../../infra/input.ts";
import { requireActor } from "../auth.ts";
import { pierRequestOf } from "../pier-request.ts";
import { sessionEventStream } from "../session-events.ts";

export function sessionApi(pier: Pier) {
  const { sessions } = pier;
  return new Elysia({ prefix: "/api/sessions" })
    .post("/", async (ctx) => {
      const session = await sessions.start(requireActor(pier, ctx), readInput(StartSessionInput, ctx.body));
      ctx.set.status = 201;
      return publicSession(session);
    })
    .get("/", (ctx) => {
      const url = new URL(ctx.request.url);
      // Read from the URL itself: a field given twice is refused, not silently one of the two.
      const query = Object.fromEntries([...new Set(url.searchParams.keys())].map((key) => [key, url.searchParams.getAll(key).length > 1 ? url.searchParams.getAll(key) : url.searchParams.get(key)]));
      const page = sessions.query(requireActor(pier, ctx), query);
      if (page.next) {
        const next = new URL(url);
        next.searchParams.set("cursor", page.next);
        ctx.set.headers.link = `<${next.pathname}${next.search}>; rel="next"`;
      }
      return page.sessions.map(publicSession);
    })
    .get("/:id", (ctx) => publicSession(sessions.getFor(requireActor(pier, ctx), ctx.params.id)))
    .patch("/:id", (ctx) => publicSession(sessions.linkTask(requireActor(pier, ctx), ctx.params.id, readInput(LinkTaskInput, ctx.body))))
    .get("/:id/transcript", (ctx) => pier.chats.transcript(requireActor(pier, ctx), ctx.params.id))
    .get("/:id/changes", (ctx) => sessions.changes(requireActor(pier, ctx), ctx.params.id))
    .get("/:id/diff", (ctx) => sessions.diff(requireActor(pier, ctx), ctx.params.id))
    .get("/:id/events", (ctx) => {
      const session = sessions.getFor(requireActor(pier, ctx), ctx.params.id);
      return sessionEventStream(pier, session.id, ctx.request.signal, pierRequestOf(pier, ctx.request).https);
    })
    .post("/:id/end", async (ctx) => {
      const { session, savedUncommitted, unpushedCommits, cleanupError } = await sessions.end(requireActor(pier, ctx), ctx.params.id);
      return { ...publicSession(session), savedUncommitted, unpushedCommits, cleanupError };
    })
    .get("/:id/recording", (ctx) => {
      const { session, path } = pier.terminals.recordingFor(requireActor(pier, ctx), ctx.params.id);
      const file = Bun.file(path);
      const download = new URL(ctx.request.url).searchParams.has("download");
      return file.exists().then((exists) => {
        if (!exists) throw new AppError(404, "no_recording", "This session has no terminal output recorded yet.");
        return new Response(file, {
          headers: {
            "content-type": "application/x-asciicast",
            "content-disposition": `${download ? "attachment" : "inline"}; filename="pier-session-${session.id}.cast"`,
          },
        });
      });
    })
    .post("/:id/resume", async (ctx) => publicSession(await sessions.resume(requireActor(pier, ctx), ctx.params.id)))
    .get("/:id/worktree", (ctx) => sessions.worktree(requireActor(pier, ctx), ctx.params.id))
    .post("/:id/restore-worktree", async (ctx) => {
      const { session, head, message } = await sessions.restoreWorktree(requireActor(pier, ctx), ctx.params.id);
      return { ...publicSession(session), worktreeHead: head, message };
    });
}
