import { eq } from "drizzle-orm";
import { spentSince } from "../costs/costs.ts";
import type { Db, Tx } from "../infra/db.ts";
import { appendItem, loadItems, type NewChatItem } from "./items.ts";
import type { ChatItem } from "./protocol.ts";
import { openTurns } from "./tables.ts";

/**
 * The turns under way, kept in the database while they run, so that a server killed in the middle
 * of one (SIGKILL, a power cut: nothing in the process gets to say so) closes it on its next start.
 * Each finished item of a turn is stored as it happens; what is kept here is what would otherwise
 * be lost: where the cost ledger stood when the turn began, and the model text streamed since its
 * last finished block.
 */

/** The turn has begun: its end, or the next start-up, closes it. */
export function beginOpenTurn(db: Db, sessionId: string, ledgerMark: number): void {
  const row = { sessionId, ledgerMark, draft: "", startedAt: new Date() };
  db.insert(openTurns).values(row).onConflictDoUpdate({ target: openTurns.sessionId, set: row }).run();
}

/** The model text streamed so far that no finished `assistant` item holds yet. */
export function saveDraft(db: Db, sessionId: string, draft: string): void {
  db.update(openTurns).set({ draft }).where(eq(openTurns.sessionId, sessionId)).run();
}

/**
 * Stores an item of the conversation. A finished block of text replaces the draft in the same
 * transaction, so a kill at any moment leaves the text once, never twice nor not at all.
 */
export function appendTurnItem(db: Db, sessionId: string, item: NewChatItem): ChatItem {
  return db.transaction((tx) => {
    if (item.kind === "assistant") tx.update(openTurns).set({ draft: "" }).where(eq(openTurns.sessionId, sessionId)).run();
    return appendItem(tx, sessionId, item);
  });
}

/** The turn's end is stored and the turn is no longer open, in one step. */
export function endOpenTurn(db: Db, sessionId: string, end: NewChatItem): ChatItem {
  return db.transaction((tx) => {
    tx.delete(openTurns).where(eq(openTurns.sessionId, sessionId)).run();
    return appendItem(tx, sessionId, end);
  });
}

/** Said in place of the result of a tool that waited for its approval when the server went down: it never ran. */
export const NEVER_RAN_RESULT = "Not run: Pier restarted before anyone answered its approval.";

/** Said in place of a tool's result when the server went down while the tool ran. */
export const CUT_OFF_RESULT = "Pier restarted before this tool finished; what it did up to then stays in the worktree.";

/**
 * At start-up, before anyone can connect: every turn the last server was killed in the middle of
 * gets what it was missing, in order: the text it had streamed, a result for each tool call left
 * without one, and a `turn_end` marked interrupted whose usage is what the ledger gained for the
 * session since the turn began (recorded there once, as it reached Pier: nothing is counted again).
 * `sessionCost` reads the session's total. Returns the sessions whose turns were closed.
 */
export function closeCutOffTurns(db: Db, sessionCost: (tx: Tx, sessionId: string) => number): string[] {
  const open = db.select().from(openTurns).all();
  for (const turn of open) {
    db.transaction((tx) => {
      if (turn.draft) appendItem(tx, turn.sessionId, { kind: "assistant", text: turn.draft });
      for (const { id, asked } of unansweredCalls(loadItems(tx, turn.sessionId))) {
        appendItem(tx, turn.sessionId, asked ? { kind: "tool_result", id, output: NEVER_RAN_RESULT, isError: true, refused: true } : { kind: "tool_result", id, output: CUT_OFF_RESULT, isError: true });
      }
      const { usage, costUsd } = spentSince(tx, turn.sessionId, turn.ledgerMark);
      appendItem(tx, turn.sessionId, { kind: "turn_end", usage, costUsd, sessionCostUsd: sessionCost(tx, turn.sessionId), interrupted: true });
      tx.delete(openTurns).where(eq(openTurns.sessionId, turn.sessionId)).run();
    });
  }
  return open.map((turn) => turn.sessionId);
}

/** The last turn's tool calls that have no result; `asked` when one still waited for its approval, so it never ran. */
function unansweredCalls(items: ChatItem[]): Array<{ id: string; asked: boolean }> {
  const previousEnd = items.findLastIndex((item) => item.kind === "turn_end");
  const turn = items.slice(previousEnd + 1);
  const answered = new Set(turn.flatMap((item) => (item.kind === "tool_result" ? [item.id] : [])));
  const asked = new Set(turn.flatMap((item) => (item.kind === "approval_request" ? [item.id] : [])));
  const decided = new Set(turn.flatMap((item) => (item.kind === "approval_decision" ? [item.id] : [])));
  return turn.flatMap((item) => (item.kind === "tool_call" && !answered.has(item.id) ? [{ id: item.id, asked: asked.has(item.id) && !decided.has(item.id) }] : []));
}
