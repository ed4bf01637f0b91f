import { Conversation, type ConversationDeps } from "./conversation.ts";
import { appendItem, hasUserMessage, loadItems, type NewChatItem } from "./items.ts";
import { closeCutOffTurns } from "./open-turns.ts";
import { eventOf } from "./protocol.ts";
import { sessionCostOf } from "../sessions/session-cost.ts";

/**
 * Opens sessions' conversations. A live session's host keeps its conversation (src/sessions/host.ts);
 * what a conversation holds lives in the database, so an ended session's can still be read.
 */
export class Chats {
  constructor(private deps: ConversationDeps) {}

  /** The conversation of a live session, for its host to keep. */
  open(sessionId: string): Conversation {
    return new Conversation(this.deps, sessionId);
  }

  /**
   * Keeps an item that comes from outside the agent's turn (one of the session's MCP servers
   * failed) and shows it to every viewer, in one step, as the conversation does its own.
   */
  note(sessionId: string, item: NewChatItem): void {
    this.deps.bus.publish("chat.event", sessionId, eventOf(appendItem(this.deps.db, sessionId, item)));
  }

  /**
   * At start-up: the turns a killed server left under way are closed as interrupted, keeping
   * what they had said and done (see closeCutOffTurns).
   */
  closeCutOffTurns(): string[] {
    return closeCutOffTurns(this.deps.db, sessionCostOf);
  }

  /** Every item of a session's conversation, in order (GET /api/sessions/:id/transcript). */
  transcript(sessionId: string) {
    return loadItems(this.deps.db, sessionId);
  }

  /** Whether the session's person has sent exactly this message (feedback they passed on, say). */
  said(sessionId: string, text: string): boolean {
    return hasUserMessage(this.deps.db, sessionId, text);
  }

  /** What a session's conversation holds, when it is not live (its session ended or failed). */
  history(sessionId: string) {
    return new Conversation(this.deps, sessionId).history();
  }
}
