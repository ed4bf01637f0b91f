import type { EventBus } from "../infra/events.ts";
import type { PullRequests } from "./pull-requests.ts";

/**
 * What the chat says (the agent's text, its tools' results) is read for pull request links as it
 * is said. (The terminal's output is handed to the scanner where terminals are opened, in
 * src/pier.ts; a session that ends lets go of its scanners through its host's release.)
 */
export function watchForPullRequests(bus: EventBus, prs: PullRequests): void {
  bus.subscribe("chat.event", null, (event, sessionId) => {
    // Each item is whole: a link at its very end is ended by the newline.
    if (event.type === "assistant_message") prs.scan(sessionId, "chat", `${event.text}\n`);
    if (event.type === "tool_result") prs.scan(sessionId, "chat", `${event.output}\n`);
  });
}
