import { and, asc, eq, sql } from "drizzle-orm";
import type { Db, Tx } from "../infra/db.ts";
import type { ChatItem } from "./protocol.ts";
import { chatItems } from "./tables.ts";

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** An item as it is recorded; it gets its time when it is stored. */
export type NewChatItem = DistributiveOmit<ChatItem, "at">;

/** Appends an item to the session's conversation, as it happens. */
export function appendItem(db: Db | Tx, sessionId: string, item: NewChatItem): ChatItem {
  const at = new Date();
  const full = { ...item, at: at.toISOString() } as ChatItem;
  db.insert(chatItems).values({ sessionId, kind: item.kind, data: JSON.stringify(full), createdAt: at }).run();
  return full;
}

/** Whether the session's person has said exactly this (a user item with this text). */
export function hasUserMessage(db: Db, sessionId: string, text: string): boolean {
  const found = db
    .select({ id: chatItems.id })
    .from(chatItems)
    .where(and(eq(chatItems.sessionId, sessionId), eq(chatItems.kind, "user"), sql`json_extract(${chatItems.data}, '$.text') = ${text}`))
    .limit(1)
    .get();
  return found !== undefined;
}

export function loadItems(db: Db | Tx, sessionId: string): ChatItem[] {
  return db
    .select({ data: chatItems.data })
    .from(chatItems)
    .where(eq(chatItems.sessionId, sessionId))
    .orderBy(asc(chatItems.id))
    .all()
    .map((row) => JSON.parse(row.data) as ChatItem);
}
