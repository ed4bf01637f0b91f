import type { Gateway } from "../gateway/gateway.ts";
import type { McpEndpoint } from "../mcp-endpoint/endpoint.ts";
import type { Scheduler } from "./scheduler.ts";

const DELETE_EVERY_MS = 10 * 60_000;

export const DELETE_EXPIRED_TOKENS = "delete expired tokens";

/**
 * Deletes the gateway's and the MCP endpoint's tokens whose time is up. Neither takes an expired
 * token, so this only keeps their tables to the tokens that still work: a pod's tokens for a
 * session are one or two at a time (see HeldTokens), and the ones they replaced go here.
 */
export function scheduleTokenJobs(scheduler: Scheduler, deps: { gateway: Gateway; mcp: McpEndpoint }): void {
  scheduler.every(DELETE_EXPIRED_TOKENS, DELETE_EVERY_MS, async () => {
    deps.gateway.tokens.deleteExpired();
    deps.mcp.tokens.deleteExpired();
  });
}
