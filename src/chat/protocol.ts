import type { Usage } from "../costs/usage.ts";

/**
 * The chat WebSocket's messages (/api/sessions/:id/chat), shared by the server and the browser.
 *
 * Client → server: {type:"message", text} (queued when the agent is busy; never dropped) and
 * {type:"interrupt"} (stops the model request and any running tool command; the turn is
 * recorded as interrupted).
 */
export type ClientMessage = { type: "message"; text: string } | { type: "interrupt" };

/** One entry of the conversation as it is kept and replayed, in order. */
export type ChatItem =
  | { kind: "user"; text: string; at: string }
  | { kind: "assistant"; text: string; at: string }
  | { kind: "tool_call"; id: string; name: string; input: unknown; at: string }
  | { kind: "tool_result"; id: string; output: string; isError: boolean; diff?: string; at: string }
  | { kind: "turn_end"; usage: Usage; costUsd: number; interrupted: boolean; at: string }
  | { kind: "error"; message: string; at: string }
  /**
   * Older turns, summarised to keep the conversation within the model's window: the model gets
   * this summary in place of the items before `keepFrom` (an index into the items), and every
   * item from `keepFrom` on as it is.
   */
  | { kind: "summary"; text: string; keepFrom: number; at: string };

/** Server → client events. */
export type ServerEvent =
  /** On connect: everything so far, then live events follow. */
  | { type: "history"; messages: ChatItem[]; running: boolean; queued: string[]; sessionCostUsd: number }
  /** A user message was accepted (sent to every viewer); `queued` when it waits for the current turn. */
  | { type: "user_message"; text: string; queued: boolean }
  | { type: "turn_start" }
  /** Model text as it streams. */
  | { type: "text_delta"; text: string }
  /** A finished block of model text (what the history keeps). */
  | { type: "assistant_message"; text: string }
  | { type: "tool_call"; id: string; name: string; input: unknown }
  | { type: "tool_result"; id: string; output: string; isError: boolean; diff?: string }
  /** The API answered 429/529/5xx; Pier waits and tries again. */
  | { type: "retrying"; attempt: number; delayMs: number; reason: string }
  | { type: "turn_end"; usage: Usage; costUsd: number; sessionCostUsd: number; interrupted: boolean }
  /** Older turns were summarised for the model (the history itself keeps every item). */
  | { type: "summary"; text: string }
  | { type: "error"; message: string; settingsUrl?: string }
  /** The session ended; the socket closes with 4001 right after. */
  | { type: "ended" };
