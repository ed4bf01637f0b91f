import { formatCost } from "./chat-format.ts";

/**
 * The session's running cost in the page header: set at the end of each chat turn, and whenever
 * Claude Code's requests through Pier's gateway are paid for (the session's event stream).
 */
export function showSessionCost(usd: number): void {
  const cost = document.getElementById("session-cost");
  if (cost) cost.textContent = formatCost(usd);
}
