/** Anything attached to a session that must be closed when the session ends (terminal, chat). */
export interface SessionConnection {
  close(code: number, reason: string): void;
}

/** The close code a session's WebSockets get when the session ends. */
export const SESSION_ENDED_CODE = 4001;

/** The open connections of each session, so ending a session can close them all. */
export class SessionConnections {
  private open = new Map<string, Set<SessionConnection>>();

  add(sessionId: string, connection: SessionConnection): () => void {
    const set = this.open.get(sessionId) ?? new Set();
    set.add(connection);
    this.open.set(sessionId, set);
    return () => {
      set.delete(connection);
      if (set.size === 0) this.open.delete(sessionId);
    };
  }

  count(sessionId: string): number {
    return this.open.get(sessionId)?.size ?? 0;
  }

  closeAll(sessionId: string): void {
    for (const connection of this.open.get(sessionId) ?? []) connection.close(SESSION_ENDED_CODE, "session ended");
    this.open.delete(sessionId);
  }
}
