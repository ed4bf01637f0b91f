import { Type } from "@sinclair/typebox";
import { and, eq, isNull } from "drizzle-orm";
import { hashToken } from "../auth/sign-ins.ts";
import type { Db } from "../infra/db.ts";
import { newId } from "../infra/ids.ts";
import { randomToken } from "./grants.ts";
import { previewShares } from "./tables.ts";

/** A week: long enough to show work to someone, short enough that a forgotten link dies. */
export const MAX_SHARE_MINUTES = 7 * 24 * 60;

/** POST /api/sessions/:id/ports/:port/share. */
export const ShareInput = Type.Object({
  minutes: Type.Integer({
    title: "Minutes",
    minimum: 1,
    maximum: MAX_SHARE_MINUTES,
    error: "Minutes must be a whole number: how long the link works.",
    rule: `Minutes must be from 1 to ${MAX_SHARE_MINUTES} (a week).`,
  }),
});

export type PreviewShare = typeof previewShares.$inferSelect;

/**
 * A new public link to the session's port, working for `minutes`: the share and its token (shown
 * once; the table keeps its hash). The port's live link, if any, is revoked in the same
 * transaction: one live link per port, so "revoke" leaves none working. Returns the ids revoked.
 */
export function createShare(
  db: Db,
  input: { sessionId: string; port: number; userId: string; minutes: number },
  now = Date.now(),
): { share: PreviewShare; token: string; revokedIds: string[] } {
  const token = randomToken();
  const share: PreviewShare = {
    id: newId(),
    sessionId: input.sessionId,
    port: input.port,
    tokenHash: hashToken(token),
    createdBy: input.userId,
    createdAt: new Date(now),
    expiresAt: new Date(now + input.minutes * 60_000),
    revokedAt: null,
  };
  const revokedIds = db.transaction((tx) => {
    const revoked = revokeIn(tx, input.sessionId, input.port, now);
    tx.insert(previewShares).values(share).run();
    return revoked;
  });
  return { share, token, revokedIds };
}

/** Revokes the port's live links (expired ones need nothing); the ids revoked, none when there was none. */
export function revokeShares(db: Db, sessionId: string, port: number, now = Date.now()): string[] {
  return db.transaction((tx) => revokeIn(tx, sessionId, port, now));
}

function revokeIn(tx: Pick<Db, "update">, sessionId: string, port: number, now: number): string[] {
  return tx
    .update(previewShares)
    .set({ revokedAt: new Date(now) })
    .where(and(eq(previewShares.sessionId, sessionId), eq(previewShares.port, port), isNull(previewShares.revokedAt)))
    .returning({ id: previewShares.id, expiresAt: previewShares.expiresAt })
    .all()
    .filter((row) => row.expiresAt.getTime() > now)
    .map((row) => row.id);
}

/** The share a link's token is for, working or not; null for a token Pier never made. */
export function shareByToken(db: Db, token: string): PreviewShare | null {
  return db.select().from(previewShares).where(eq(previewShares.tokenHash, hashToken(token))).get() ?? null;
}

export function shareById(db: Db, id: string): PreviewShare | null {
  return db.select().from(previewShares).where(eq(previewShares.id, id)).get() ?? null;
}

/** Whether the link still works at `now`: neither revoked nor expired. */
export function shareWorks(share: PreviewShare, now: number): boolean {
  return share.revokedAt === null && now < share.expiresAt.getTime();
}
