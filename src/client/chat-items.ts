// One renderer for a conversation's kept items, shared by the session page's live chat and the
// review page's read-only transcript, so an item looks the same in both.

import type { ItemEvent } from "../chat/protocol.ts";
import type { ChatLog } from "./chat-log.ts";

/**
 * How an item is shown. The live chat (`live`) keeps queued messages waiting below the
 * conversation and links a refused credential's error to Tokens; the review shows each message
 * where it came and links to settings only. `announce`: an approval request is said aloud (it
 * arrived just now, not in a replay).
 */
export interface ItemShowing {
  live: boolean;
  announce: boolean;
}

/** Shows one item of the conversation in the log, as the event it was. */
export function showItem(log: ChatLog, event: ItemEvent, how: ItemShowing): void {
  switch (event.type) {
    case "user_message":
      return how.live && event.queued ? log.queued(event.text) : log.user(event.text);
    case "assistant_message":
      return log.assistant(event.text);
    case "tool_call":
      return log.toolCall(event.id, event.name, event.input);
    case "tool_result":
      return log.toolResult(event.id, event.output, event.isError, event.diff, event.refused);
    case "approval_request":
      return log.approvalRequest(event.id, event.tool, event.input, event.diff, how.announce);
    case "approval_decision":
      return log.approvalDecision(event.id, event.allow, event.scope, event.by, event.reason);
    case "turn_end":
      return log.turnEnd(event.costUsd, event.usage, event.interrupted);
    case "error":
      return log.error(event.message, event.settingsUrl, how.live ? event.tokensUrl : undefined);
    case "summary":
      return log.summary();
  }
}
