import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { users } from "../auth/tables.ts";
import { sessions } from "../sessions/tables.ts";

/**
 * Review comments on a session's diff, one row each. A comment is kept (`sentAt` null) until its
 * person sends their review to the session's agent; then every kept one of theirs goes in that
 * one message and is marked sent. Sent ones stay, so the review page still shows what was asked.
 */
export const reviewComments = sqliteTable(
  "review_comments",
  {
    id: text("id").primaryKey(),
    sessionId: text("session_id")
      .notNull()
      .references(() => sessions.id, { onDelete: "cascade" }),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    path: text("path").notNull(),
    line: integer("line").notNull(),
    body: text("body").notNull(),
    /** The commented line and a little before it, as the diff showed them then ("+", "-" or " " first). */
    context: text("context").notNull(),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
    sentAt: integer("sent_at", { mode: "timestamp_ms" }),
  },
  (t) => [index("review_comments_session_idx").on(t.sessionId, t.createdAt)],
);
