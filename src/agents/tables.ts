import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * The agents admins defined, and their edits to the ones Pier ships (src/agents/shipped.ts), by the
 * agent's id: a shipped agent no row names is Pier's own definition, so a new Pier brings its new
 * pinned versions to every agent nobody changed. An agent is an npm package at an exact version,
 * or a command already in the pod's image (the other pair of columns is null). `args` is a JSON
 * array of text.
 */
export const agents = sqliteTable("agents", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  package: text("package"),
  version: text("version"),
  /** The program the package installs (its `bin`), as the registry said when the agent was saved. */
  program: text("program"),
  command: text("command"),
  args: text("args").notNull(),
  service: text("service").notNull(),
  /** A shipped agent an admin removed: the row stays so Pier does not bring it back. */
  removed: integer("removed", { mode: "boolean" }).notNull(),
  createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
  updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
});
