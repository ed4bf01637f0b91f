import type { EventBus } from "../infra/events.ts";
import type { Terminals } from "../terminal/terminals.ts";
import type { PullRequests } from "./pull-requests.ts";

/**
 * What the chat says (the agent's text, its tools' results) is read for pull request links as it
 * is said. (The terminal's output: see watchTerminalsForPullRequests.) A session that ends lets
 * go of its scanners through its host's release.
 */
export function watchForPullRequests(bus: EventBus, prs: PullRequests): void {
  bus.subscribe("chat.event", null, (event, sessionId) => {
    // Each item is whole: a link at its very end is ended by the newline.
    if (event.type === "assistant_message") prs.scan(sessionId, "chat", `${event.text}\n`);
    if (event.type === "tool_result") prs.scan(sessionId, "chat", `${event.output}\n`);
  });
}

/** Links to pull requests can come in any piece of a terminal's output; the scanner reads them as ASCII. */
export function watchTerminalsForPullRequests(terminals: Pick<Terminals, "onOutput">, prs: PullRequests): void {
  terminals.onOutput((sessionId, bytes) => prs.scan(sessionId, "terminal", Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1")));
}
