/** A WebSocket attached to a session (terminal, chat): what ending the session needs of it. */
export interface SessionSocket {
  sendText(text: string): unknown;
  close(code?: number, reason?: string): void;
}

/** The close code a session's WebSockets get when the session ends. */
export const SESSION_ENDED_CODE = 4001;
const ENDED_MESSAGE = JSON.stringify({ type: "ended" });

/**
 * The open WebSockets of each session. Ending a session tells each one ({"type":"ended"}) and
 * closes it with 4001, the same way for every kind of socket.
 */
export class SessionConnections {
  private open = new Map<string, Set<SessionSocket>>();

  add(sessionId: string, socket: SessionSocket): () => void {
    const set = this.open.get(sessionId) ?? new Set();
    set.add(socket);
    this.open.set(sessionId, set);
    return () => {
      set.delete(socket);
      if (set.size === 0) this.open.delete(sessionId);
    };
  }

  closeAll(sessionId: string): void {
    for (const socket of this.open.get(sessionId) ?? []) {
      socket.sendText(ENDED_MESSAGE);
      socket.close(SESSION_ENDED_CODE, "session ended");
    }
    this.open.delete(sessionId);
  }
}
