import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { repos } from "../repos/tables.ts";

/**
 * Pier's view of each repo's pod. The engine is the truth; reconciliation brings this row in
 * line with it (a container removed behind Pier's back becomes "missing").
 */
export const pods = sqliteTable("pods", {
  repoId: text("repo_id")
    .primaryKey()
    .references(() => repos.id, { onDelete: "cascade" }),
  containerId: text("container_id"),
  image: text("image").notNull(),
  state: text("state", { enum: ["running", "stopped", "missing"] }).notNull(),
  /** Last time a session of this repo started or ended: the idle clock starts here. */
  lastActiveAt: integer("last_active_at", { mode: "timestamp_ms" }).notNull(),
  updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
});
