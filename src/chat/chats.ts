import { Conversation, type ConversationDeps } from "./conversation.ts";
import { appendItem, hasUserMessage, loadItems, type NewChatItem } from "./items.ts";
import { closeCutOffTurns } from "./open-turns.ts";
import { eventOf } from "./protocol.ts";
import type { Actor } from "../auth/actor.ts";
import { sessionFor } from "../sessions/session-scope.ts";
import type { Db } from "../infra/db.ts";
import type { EventBus } from "../infra/events.ts";
import { sessionCostOf } from "../sessions/session-cost.ts";

/**
 * Keeps an item that comes from outside the agent's turn (one of the session's MCP servers
 * failed) and shows it to every viewer, in one step, as the conversation does its own. It needs
 * only the database and the bus, so the parts the chats are built on can note too.
 */
export function noteInChat(place: { db: Db; bus: EventBus }, sessionId: string, item: NewChatItem): void {
  place.bus.publish("chat.event", sessionId, eventOf(appendItem(place.db, sessionId, item)));
}

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

  /** Keeps an item that comes from outside the agent's turn and shows it to every viewer (see noteInChat). */
  note(sessionId: string, item: NewChatItem): void {
    noteInChat(this.deps, sessionId, item);
  }

  /**
   * At start-up: the turns a killed server left under way are closed as interrupted, keeping
   * what they had said and done (see closeCutOffTurns).
   */
  closeCutOffTurns(): string[] {
    return closeCutOffTurns(this.deps.db, sessionCostOf);
  }

  /**
   * Every item of a session's conversation, in order (GET /api/sessions/:id/transcript), for an
   * actor who may see the session (see session-scope.ts); any other session is a 404.
   */
  transcript(actor: Actor, sessionId: string) {
    return loadItems(this.deps.db, sessionFor(this.deps.db, actor, sessionId).id);
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
