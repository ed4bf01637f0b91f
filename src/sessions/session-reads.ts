import { and, eq, inArray, ne } from "drizzle-orm";
import type { Db } from "../infra/db.ts";
import type { LivePod } from "../pods/disk-watch.ts";
import type { PodKey } from "../runtime/runtime.ts";
import type { Session } from "./session.ts";
import { LIVE_STATES, sessions } from "./tables.ts";

/**
 * What is asked of sessions with the database alone: whether one is live, and for whom. The parts
 * a session is built on (the pods' sockets, the pods, the terminal holders, the tasks) ask this
 * too, and are made before Sessions can be, so these rules live here, written once, and
 * Sessions answers them from here as well.
 */
export class SessionReads {
  constructor(private db: Db) {}

  /** A live session (provisioning or active) by id, or null. */
  findLive(id: string): Session | null {
    const session = this.db.select().from(sessions).where(eq(sessions.id, id)).get();
    return session && LIVE_STATES.includes(session.state) ? session : null;
  }

  /**
   * Whether `sessionId` is a live session of the pod's own person and repo: the one rule behind
   * everything a pod asks about a session (its terminal holder, its tokens for Pier's MCP
   * endpoint and model gateway, its MCP servers' secrets). Any other session is none of its business.
   */
  isLiveFor(pod: PodKey, sessionId: string): boolean {
    const session = this.findLive(sessionId);
    return session !== null && session.repoId === pod.repoId && session.userId === pod.userId;
  }

  /**
   * Whether the repo (or, given a person, that person's pod of it) has a provisioning or active
   * session, leaving out `except` if given.
   */
  hasLiveSession(repoId: string, userId?: string, except?: string): boolean {
    return (
      this.db
        .select({ id: sessions.id })
        .from(sessions)
        .where(
          and(
            eq(sessions.repoId, repoId),
            ...(userId ? [eq(sessions.userId, userId)] : []),
            ...(except ? [ne(sessions.id, except)] : []),
            inArray(sessions.state, LIVE_STATES),
          ),
        )
        .get() !== undefined
    );
  }

  /** Every active session, whoever owns it (for work the server does on its own, such as at start). */
  allActive(): Session[] {
    return this.db.select().from(sessions).where(eq(sessions.state, "active")).all();
  }

  /** The pods that have an active session, each with those sessions (whose people are told what happens to their pod). */
  livePods(): LivePod[] {
    const byPod = new Map<string, LivePod>();
    for (const session of this.allActive()) {
      const id = `${session.repoId}/${session.userId}`;
      if (!byPod.has(id)) byPod.set(id, { key: { repoId: session.repoId, userId: session.userId }, sessionIds: [] });
      byPod.get(id)!.sessionIds.push(session.id);
    }
    return [...byPod.values()];
  }

  /** The task a session is linked to, if any: what its agent may act on. */
  linkedTaskOf(sessionId: string): string | null {
    return this.db.select({ taskId: sessions.taskId }).from(sessions).where(eq(sessions.id, sessionId)).get()?.taskId ?? null;
  }
}
