import type { Usage } from "../costs/usage.ts";
import type { ResponseMeter } from "../costs/usage-in-flight.ts";
import type { Session } from "../sessions/session.ts";
import type { ToolRegistry } from "../tools/registry.ts";
import type { NewChatItem } from "./items.ts";
import type { ChatItem, PassingItem } from "./protocol.ts";

/** The reason a turn's signal carries when it is stopped because Pier is stopping, not by its person. */
export const SERVER_STOPPING = "Pier is stopping";

/** The reason a turn's signal carries when it is stopped because its session reached a budget. */
export const BUDGET_REACHED = "a budget was reached";

/** Who stopped a turn, as the model and the chat are told it. */
export function stoppedBy(signal: AbortSignal): string {
  if (signal.reason === SERVER_STOPPING) return "Pier restarting";
  return signal.reason === BUDGET_REACHED ? "Pier: the budget was reached" : "the user";
}

/**
 * What answers a conversation: Pier's own agent on the Anthropic Messages API
 * (engines/anthropic.ts), or Claude Code running in the pod (engines/claude-code.ts), by the
 * session's `engine`. An engine only talks to its model and reports through the turn; the
 * conversation around it keeps the queue, the interrupt, the storage and the broadcast.
 */
export interface ChatEngine {
  /**
   * Takes the conversation one turn further, from the items so far until the model ends its turn,
   * the signal aborts or the model cannot be reached. An engine that cannot answer at all (no
   * credentials) records an error and returns without beginning the turn.
   */
  runTurn(turn: Turn): Promise<void>;
}

/** A tool call the model asked for, before it runs. */
export interface ToolCall {
  id: string;
  name: string;
  input: unknown;
}

/** Whether a tool call may run; a refused one is not run, and `reason` goes back to the model as its result. */
export type Verdict = { allowed: true } | { allowed: false; reason: string };

/** One turn of a conversation, as the conversation hands it to its engine. */
export interface Turn {
  readonly session: Session;
  /** Aborted when the person interrupts or the session ends: stop the model request and return. */
  readonly signal: AbortSignal;
  /** The tools the model may call in this session, this turn. */
  readonly tools: ToolRegistry;
  /**
   * Asks whether a call may run, before the engine runs it: Pier's tool policy for the session's
   * repo decides, and may wait for the person to approve it (or the signal to abort).
   */
  authorize(call: ToolCall): Promise<Verdict>;
  /** The conversation so far, in order, as kept (what was recorded a moment ago included). */
  items(): ChatItem[];
  /** The turn is under way: viewers show the agent working, and its end will be recorded. */
  begin(): void;
  /** Keeps an item of the conversation and shows it to every viewer, in one step. */
  record(item: NewChatItem): void;
  /** Shows something to every viewer without keeping it: streaming text, a retry being waited out. */
  stream(item: Exclude<PassingItem, { kind: "turn_start" }>): void;
  /** A model request's tokens, costed into the ledger and the session at once. */
  recordUsage(model: string, usage: Usage): void;
  /**
   * A streamed model request's meter: what it has used is kept as it arrives and recorded in the
   * ledger and the session once it ends, so a server killed mid-stream loses none of it.
   */
  meterResponse(): ResponseMeter;
  /**
   * Asked before each model request the engine makes itself: true when the session has reached a
   * budget, and then the turn is already stopped (its signal aborted) and the person told.
   */
  overBudget(): boolean;
}
