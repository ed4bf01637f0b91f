import type { Usage } from "../costs/usage.ts";

/**
 * The chat WebSocket's messages (/api/sessions/:id/chat), shared by the server and the browser.
 *
 * Client → server: {type:"message", text} (queued when the agent is busy; never dropped),
 * {type:"interrupt"} (stops the model request and any running tool command; the turn is
 * recorded as interrupted) and {type:"approval", id, allow, scope?} (the answer to an
 * approval_request; scope "session" allows that tool for the rest of the session).
 *
 * Server → client: `history` on connect, then one event per conversation item as it happens.
 * An item and its event are one thing under two names: `eventOf` turns the one into the other,
 * for the server as it broadcasts and for the browser as it replays the history.
 */
export type ClientMessage =
  | { type: "message"; text: string }
  | { type: "interrupt" }
  | { type: "approval"; id: string; allow: boolean; scope?: ApprovalScope };

/** An approval holds for the one call, or for every call of that tool for the rest of the session. */
export type ApprovalScope = "once" | "session";

/**
 * One entry of the conversation as it is kept and replayed, in order. Items kept before a field
 * existed lack it, so fields added later are optional.
 */
export type ChatItem =
  /** `queued` when it was sent while a turn was under way, and so waited for that turn to end. */
  | { kind: "user"; text: string; queued?: boolean; at: string }
  /** A finished block of model text. */
  | { kind: "assistant"; text: string; at: string }
  | { kind: "tool_call"; id: string; name: string; input: unknown; at: string }
  /** `refused` when the tool did not run at all: Pier's tool policy denied it, or a person did. */
  | { kind: "tool_result"; id: string; output: string; isError: boolean; diff?: string; refused?: boolean; at: string }
  /**
   * The tool policy asks a person before this call (`id` is the tool call's) runs; nothing runs
   * until an approval_decision with the same id says so. `diff` previews a file edit's change.
   */
  | { kind: "approval_request"; id: string; tool: string; input: unknown; diff?: string; at: string }
  /**
   * How an approval_request was settled: by a person (`by`, their username), or by no one when
   * the turn was stopped or the session ended first (`by` null, `reason` says which).
   */
  | { kind: "approval_decision"; id: string; allow: boolean; scope: ApprovalScope; by: string | null; reason?: string; at: string }
  /** `sessionCostUsd` is the session's cost once the turn was paid for. */
  | { kind: "turn_end"; usage: Usage; costUsd: number; sessionCostUsd?: number; interrupted: boolean; at: string }
  /**
   * `code` names a failure a page or Pier itself acts on: `sign_in_expired` (the person's Claude
   * subscription token was refused; `tokensUrl` is where a new one is saved, and the session
   * needs its person); `budget_exceeded` (the session reached a budget, and Pier stopped its turn and
   * refuses its model requests; the session needs its person); `key_refused` (a service refused the
   * person's API key); `no_credential` (the person has no credential for the agent's model service).
   * `settingsUrl`/`tokensUrl`: where the person can fix it.
   */
  | { kind: "error"; message: string; code?: "sign_in_expired" | "key_refused" | "no_credential" | "budget_exceeded"; settingsUrl?: string; tokensUrl?: string; at: string }
  /**
   * Older turns, summarised to keep the conversation within the model's window: the model gets
   * this summary in place of the items before `keepFrom` (an index into the items), and every
   * item from `keepFrom` on as it is. The history itself keeps every item.
   */
  | { kind: "summary"; text: string; keepFrom: number; at: string };

/** What viewers see as it happens but the conversation does not keep. */
export type PassingItem =
  | { kind: "turn_start" }
  /** Model text as it streams; the finished block follows as an `assistant` item. */
  | { kind: "text_delta"; text: string }
  /**
   * The model service was busy, failing or cut off; Pier waits `delayMs` and asks again from the
   * start. `discardStreamed`: the text streamed since the last kept item was the failed try's, and
   * the new try's answer takes its place.
   */
  | { kind: "retrying"; attempt: number; delayMs: number; reason: string; discardStreamed?: boolean };

/** Each item kind's event type: the same word, but for the two that say whose message it is. */
const EVENT_TYPES = {
  user: "user_message",
  assistant: "assistant_message",
  tool_call: "tool_call",
  tool_result: "tool_result",
  approval_request: "approval_request",
  approval_decision: "approval_decision",
  turn_end: "turn_end",
  error: "error",
  summary: "summary",
  turn_start: "turn_start",
  text_delta: "text_delta",
  retrying: "retrying",
} as const satisfies Record<(ChatItem | PassingItem)["kind"], string>;

type EventOf<Item> = Item extends { kind: infer Kind extends keyof typeof EVENT_TYPES } ? { type: (typeof EVENT_TYPES)[Kind] } & Omit<Item, "kind"> : never;

/** An item as its event: the item's fields under the event's type. */
export type ItemEvent = EventOf<ChatItem | PassingItem>;

/** What the server broadcasts for an item as it happens, and what the browser replays the history as. */
export function eventOf(item: ChatItem | PassingItem): ItemEvent {
  const { kind, ...fields } = item;
  return { type: EVENT_TYPES[kind], ...fields } as ItemEvent;
}

/** Server → client events. */
export type ServerEvent =
  /**
   * On connect: everything so far, then live events follow. `queued` are the messages still
   * waiting for the turn under way; `pendingApprovals` the approval requests (by id) a person can
   * still answer. A request neither answered nor pending has expired (its turn is gone).
   * `streaming`: the model text streamed so far of a block not yet kept (text_delta events continue
   * it); `retrying`: the wait for the model service under way, `delayMs` what is left of it.
   */
  | {
      type: "history";
      messages: ChatItem[];
      running: boolean;
      queued: string[];
      pendingApprovals: string[];
      sessionCostUsd: number;
      streaming?: string;
      retrying?: { attempt: number; delayMs: number; reason: string };
    }
  | ItemEvent
  /** The session ended; the socket closes with 4001 right after. */
  | { type: "ended" }
  /** Pier is stopping to restart; the socket closes with 1012 right after, and the page reconnects by itself. */
  | { type: "restarting"; message: string };

/** The longest message a person may send. */
export const MAX_MESSAGE_CHARS = 100_000;
