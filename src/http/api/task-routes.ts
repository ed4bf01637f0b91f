import { Elysia } from "elysia";
import { readInput } from "../../infra/input.ts";
import type { Pier } from "../../pier.ts";
import { NewTaskInput, NoteInput, RejectInput, TaskChangesInput } from "../../tasks/tasks.ts";
import { requireActor } from "../auth.ts";
import { taskEventStream } from "../task-events.ts";

/** Tasks: the board, each task's notes, its verification report, approval and rejection, and its live events. */
export function taskApi(pier: Pier) {
  const { tasks, verifications } = pier;
  return new Elysia({ prefix: "/api/tasks" })
    .post("/", (ctx) => {
      const task = tasks.create(requireActor(pier, ctx), readInput(NewTaskInput, ctx.body));
      ctx.set.status = 201;
      return task;
    })
    .get("/", (ctx) => tasks.list(requireActor(pier, ctx), ctx.query as Record<string, string | undefined>))
    .get("/:id", (ctx) => tasks.get(requireActor(pier, ctx), ctx.params.id))
    .patch("/:id", (ctx) => tasks.update(requireActor(pier, ctx), ctx.params.id, readInput(TaskChangesInput, ctx.body)))
    .delete("/:id", (ctx) => {
      tasks.remove(requireActor(pier, ctx), ctx.params.id);
      ctx.set.status = 204;
    })
    .get("/:id/events", (ctx) => {
      const actor = requireActor(pier, ctx);
      const task = tasks.get(actor, ctx.params.id);
      return taskEventStream(pier, actor, task.id, ctx.request.signal);
    })
    .get("/:id/notes", (ctx) => tasks.notes(requireActor(pier, ctx), ctx.params.id))
    .post("/:id/notes", (ctx) => {
      const note = tasks.addNote(requireActor(pier, ctx), ctx.params.id, readInput(NoteInput, ctx.body));
      ctx.set.status = 201;
      return note;
    })
    .get("/:id/verification", (ctx) => verifications.get(requireActor(pier, ctx), ctx.params.id))
    .post("/:id/verification", (ctx) => {
      const report = verifications.retry(requireActor(pier, ctx), ctx.params.id);
      ctx.set.status = 202;
      return report;
    })
    .post("/:id/approve", (ctx) => tasks.approve(requireActor(pier, ctx), ctx.params.id))
    .post("/:id/reject", (ctx) => tasks.reject(requireActor(pier, ctx), ctx.params.id, readInput(RejectInput, ctx.body)));
}
