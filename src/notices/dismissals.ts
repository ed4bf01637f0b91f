import { type Static, Type } from "@sinclair/typebox";
import { eq } from "drizzle-orm";
import { type Actor, assertPerson } from "../auth/actor.ts";
import type { Db } from "../infra/db.ts";
import { NOTICE_IDS, type NoticeId, NOTICES, fingerprint } from "./notices.ts";
import { dismissedNotices } from "./tables.ts";

/** `POST /api/me/dismissed`: one of the notices a person may dismiss, by id. */
export const DismissNoticeInput = Type.Object({
  notice: Type.Union(
    NOTICE_IDS.map((id) => Type.Literal(id)),
    { title: "Notice", error: `Notice must be the id of a notice that can be dismissed: ${NOTICE_IDS.join(", ")}.` },
  ),
});
export type DismissNoticeInput = Static<typeof DismissNoticeInput>;

/** Each notice a person may dismiss, what it says now, and whether they dismissed these words. */
export interface NoticeView {
  id: NoticeId;
  text: string;
  dismissed: boolean;
}

/** The notices each person dismissed, kept on the server so the choice follows them to every device. */
export class Dismissals {
  constructor(private db: Db) {}

  list(actor: Actor): NoticeView[] {
    assertPerson(actor);
    const dismissed = this.dismissedBy(actor.user.id);
    return NOTICE_IDS.map((id) => ({ id, text: NOTICES[id], dismissed: dismissed.has(id) }));
  }

  /** Dismisses the notice as it reads now; dismissing it again is harmless. */
  dismiss(actor: Actor, input: DismissNoticeInput): NoticeView[] {
    assertPerson(actor);
    const row = { fingerprint: fingerprint(input.notice), dismissedAt: new Date() };
    this.db
      .insert(dismissedNotices)
      .values({ userId: actor.user.id, notice: input.notice, ...row })
      .onConflictDoUpdate({ target: [dismissedNotices.userId, dismissedNotices.notice], set: row })
      .run();
    return this.list(actor);
  }

  /** The notices this person dismissed that still say what they said then. */
  dismissedBy(userId: string): Set<NoticeId> {
    const rows = this.db.select().from(dismissedNotices).where(eq(dismissedNotices.userId, userId)).all();
    return new Set(rows.filter((row) => row.notice in NOTICES && row.fingerprint === fingerprint(row.notice as NoticeId)).map((row) => row.notice as NoticeId));
  }
}
