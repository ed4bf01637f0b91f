import type { EventBus } from "../infra/events.ts";
import type { SessionHosts } from "../sessions/hosts.ts";
import type { Sessions } from "../sessions/sessions.ts";

/**
 * When a person sends a task back with feedback, the agent of each active session linked to it
 * hears it as a message, so the work goes on without the person repeating themselves.
 */
export function deliverTaskFeedback(bus: EventBus, deps: { sessions: Sessions; hosts: SessionHosts }): void {
  bus.subscribe("task.rejected", null, ({ task, feedback }) => {
    for (const session of deps.sessions.allActive().filter((s) => s.taskId === task.id)) {
      deps.hosts.get(session.id)?.chat().send(`The task “${task.title}” was sent back for more work. The feedback:\n\n${feedback}`);
    }
  });
}
