import { Conversation, type ConversationDeps } from "./conversation.ts";
import { loadItems } from "./items.ts";

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

  /** Every item of a session's conversation, in order (GET /api/sessions/:id/transcript). */
  transcript(sessionId: string) {
    return loadItems(this.deps.db, sessionId);
  }

  /** What a session's conversation holds, when it is not live (its session ended or failed). */
  history(sessionId: string) {
    return new Conversation(this.deps, sessionId).history();
  }
}
