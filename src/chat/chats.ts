import { Conversation, type ConversationDeps } from "./conversation.ts";

/** The conversation of each session, made on first use; what it holds lives in the database. */
export class Chats {
  private conversations = new Map<string, Conversation>();

  constructor(private deps: ConversationDeps) {}

  conversation(sessionId: string): Conversation {
    let conversation = this.conversations.get(sessionId);
    if (!conversation) {
      conversation = new Conversation(this.deps, sessionId);
      this.conversations.set(sessionId, conversation);
    }
    return conversation;
  }

  /** The session is ending: stop whatever its conversation is doing, and start nothing more. */
  async end(sessionId: string): Promise<void> {
    const conversation = this.conversations.get(sessionId);
    this.conversations.delete(sessionId);
    await conversation?.end();
  }
}
