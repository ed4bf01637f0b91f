import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { repos } from "../repos/tables.ts";

/**
 * MCP servers sessions get: each a command started in the session's pod (by Claude Code through
 * .mcp.json, and by the chat's agent), global or for one repo. Environment values are secrets:
 * `env` is a JSON object of NAME → value sealed with the secret box, so the names can be shown
 * and each value kept or replaced on its own without ever being opened for a page.
 */
export const mcpServers = sqliteTable(
  "mcp_servers",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    /** Null for a global server (every repo's sessions); a repo's own wins over a global one of the same name. */
    repoId: text("repo_id").references(() => repos.id, { onDelete: "cascade" }),
    command: text("command").notNull(),
    /** JSON array of strings. */
    args: text("args").notNull(),
    /** JSON object of NAME → sealed value. */
    env: text("env").notNull(),
    enabled: integer("enabled", { mode: "boolean" }).notNull(),
    /** Goes up with every edit: a running server of an older revision is restarted. */
    revision: integer("revision").notNull(),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
    updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [index("mcp_servers_repo_idx").on(t.repoId)],
);
