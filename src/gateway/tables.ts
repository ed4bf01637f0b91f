import { sessionTokenTable } from "../auth/session-token-table.ts";

/**
 * Tokens for Pier's model gateway, each good for one session's model requests (Claude Code in its
 * pod asks for one as it starts, and is handed the same one while it has hours left), stored only
 * as SHA-256. All of a session's go when it ends or fails, the gateway takes none for a session
 * that is not live, and expired ones are deleted by a job.
 */
export const gatewayTokens = sessionTokenTable("gateway_tokens");
