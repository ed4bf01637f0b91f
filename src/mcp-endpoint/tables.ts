import { sessionTokenTable } from "../auth/session-token-table.ts";

/**
 * Bearer tokens for Pier's MCP endpoint, one or more per session (asked for by Claude Code in the
 * pod when it connects, and handed the same one while it has hours left), stored only as SHA-256.
 * They reach only their session's task, all of a session's go when it ends or fails, and expired
 * ones are deleted by a job.
 */
export const mcpTokens = sessionTokenTable("mcp_tokens");
