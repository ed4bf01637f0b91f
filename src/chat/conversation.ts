import { ledgerMark, recordUsage, spentSince } from "../costs/costs.ts";
import { ResponseMeter } from "../costs/usage-in-flight.ts";
import type { Db } from "../infra/db.ts";
import type { EventBus } from "../infra/events.ts";
import { addSessionCost } from "../sessions/session-cost.ts";
import type { Session } from "../sessions/session.ts";
import type { ToolRegistry } from "../tools/registry.ts";
import type { BudgetGate } from "../costs/budget-gate.ts";
import { BUDGET_REACHED, type ChatEngine, SERVER_STOPPING, type ToolCall, type Turn, type Verdict } from "./engine.ts";
import { loadItems, type NewChatItem } from "./items.ts";
import { appendTurnItem, beginOpenTurn, endOpenTurn, saveDraft } from "./open-turns.ts";
import { type ItemEvent, type PassingItem, type ServerEvent, eventOf } from "./protocol.ts";

declare module "../infra/events.ts" {
  interface PierEvents {
    /** An item of a session's conversation as it happens (topic: the session id), as its viewers get it. */
    "chat.event": ItemEvent;
  }
}

export interface ConversationDeps {
  db: Db;
  bus: EventBus;
  /** Sessions by id (the service, Sessions): named by what the conversation asks, so chat does not import the service that hosts it. */
  sessions: { get(id: string): Session };
  engine: ChatEngine;
  /** The tools a session's agent may call this turn. */
  toolsFor(session: Session): Promise<ToolRegistry>;
  /**
   * Whether a tool call of the session's agent may run (see Turn.authorize). `record` keeps an
   * item of the conversation, for an approval asked of the person and its answer.
   */
  authorize(session: Session, call: ToolCall, signal: AbortSignal, record: (item: NewChatItem) => void): Promise<Verdict>;
  /** The ids of the session's approval requests a person can still answer (see the history event). */
  pendingApprovals(sessionId: string): string[];
  /** The budgets every model request passes (see BudgetGate): asked before each, told after each is paid for. */
  budget: Pick<BudgetGate, "refusal" | "spent">;
}

/** How often at most the text streaming in is saved, for a turn cut off by a killed server to keep. */
const DRAFT_SAVE_MS = 250;

/**
 * A session's chat: one stream of items, each kept and shown to every viewer in the same step,
 * and the person's messages, answered a turn at a time by the engine. Messages sent while a turn
 * is under way wait for it to end; an interrupt aborts the turn's signal.
 */
export class Conversation {
  private running = false;
  private queued: string[] = [];
  private abort: AbortController | null = null;
  private turn: Promise<void> | null = null;
  private ended = false;
  /**
   * The model text streamed since the last kept item: a viewer that connects mid-answer (a
   * browser back on the network) gets it with the history, so its bubble starts where the answer
   * did, and the deltas that follow continue it.
   */
  private streamed = "";
  /** The retry being waited out and when the wait ends (epoch ms), for a viewer that connects meanwhile. */
  private waiting: { item: Extract<PassingItem, { kind: "retrying" }>; until: number } | null = null;
  /** The turn under way's streamed text since its last finished block, and the timer saving it. */
  private draft = "";
  private draftTimer: ReturnType<typeof setTimeout> | null = null;
  /** The server is stopping: the database is about to close, so no more drafts are saved. */
  private closing = false;

  constructor(
    private deps: ConversationDeps,
    readonly sessionId: string,
  ) {}

  /**
   * What a viewer gets first. It reads the database synchronously, so a viewer that subscribes to
   * "chat.event" in the same synchronous run misses no item and gets none twice.
   */
  history(): Extract<ServerEvent, { type: "history" }> {
    return {
      type: "history",
      messages: loadItems(this.deps.db, this.sessionId),
      running: this.running,
      queued: [...this.queued],
      pendingApprovals: this.deps.pendingApprovals(this.sessionId),
      sessionCostUsd: this.deps.sessions.get(this.sessionId).costUsd,
      ...(this.streamed ? { streaming: this.streamed } : {}),
      ...(this.waiting ? { retrying: { attempt: this.waiting.item.attempt, reason: this.waiting.item.reason, delayMs: Math.max(0, this.waiting.until - Date.now()) } } : {}),
    };
  }

  /** A person's message: kept at once (it is never lost), answered now or after the turn under way. */
  send(text: string): void {
    this.record({ kind: "user", text, queued: this.running });
    if (this.running) {
      this.queued.push(text);
      return;
    }
    void this.run();
  }

  /** Stops the turn under way (its model request and any command it runs) and waits for it to end, as interrupted. */
  async interrupt(): Promise<void> {
    this.abort?.abort();
    await this.turn;
  }

  /**
   * The session reached a budget (see BudgetGate): the turn under way stops as interrupted, its
   * tools saying why. Not waited for: the gate says so from inside the turn, as a response is paid for.
   */
  stopForBudget(): void {
    if (this.running) this.abort?.abort(BUDGET_REACHED);
  }

  /**
   * The session is ending: nothing queued is answered any more, and the turn under way is stopped
   * and waited for, so nothing of it runs on in a worktree that is being saved and removed.
   */
  async end(): Promise<void> {
    this.ended = true;
    this.queued = [];
    await this.interrupt();
  }

  /**
   * The server is stopping: nothing queued is started, and the turn under way is stopped and
   * given `graceMs` to record its end. A turn still running then stays open in the database and
   * is closed as interrupted at the next start.
   */
  async stopForShutdown(graceMs: number): Promise<void> {
    this.ended = true;
    this.queued = [];
    this.abort?.abort(SERVER_STOPPING);
    await Promise.race([this.turn, Bun.sleep(graceMs)]);
    // A turn still running keeps what it streamed so far; nothing is saved later, as the database closes next.
    this.closing = true;
    if (this.draftTimer) {
      clearTimeout(this.draftTimer);
      this.draftTimer = null;
      saveDraft(this.deps.db, this.sessionId, this.draft);
    }
  }

  private record(item: NewChatItem): void {
    this.streamed = "";
    this.waiting = null;
    if (item.kind === "assistant") this.draft = "";
    this.deps.bus.publish("chat.event", this.sessionId, eventOf(appendTurnItem(this.deps.db, this.sessionId, item)));
  }

  private stream(item: PassingItem): void {
    if (item.kind === "text_delta") {
      this.streamed += item.text;
      this.keepDraft(item.text);
    } else if (item.kind === "retrying" && item.discardStreamed) {
      // The answer is asked for again from its start: what the failed try streamed is neither shown to a late viewer nor kept.
      this.streamed = "";
      this.draft = "";
      this.keepDraft("");
    }
    this.waiting = item.kind === "retrying" ? { item, until: Date.now() + item.delayMs } : null;
    this.deps.bus.publish("chat.event", this.sessionId, eventOf(item));
  }

  /** Streamed text is saved a little later, a few times a second at most, not once per delta. */
  private keepDraft(delta: string): void {
    this.draft += delta;
    if (this.closing) return;
    this.draftTimer ??= setTimeout(() => {
      this.draftTimer = null;
      saveDraft(this.deps.db, this.sessionId, this.draft);
    }, DRAFT_SAVE_MS);
  }

  private clearDraft(): void {
    if (this.draftTimer) clearTimeout(this.draftTimer);
    this.draftTimer = null;
    this.draft = "";
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      do {
        // Messages queued during the last turn are already kept: one new turn answers them all.
        this.queued = [];
        this.turn = this.runTurn();
        await this.turn;
      } while (this.queued.length > 0 && !this.ended);
    } finally {
      this.running = false;
      this.turn = null;
    }
  }

  /**
   * Whether a budget refuses the session's next model request; if so the turn is stopped, and the
   * person told here unless the gate has just told them (it does the first time, in the chat too).
   */
  private refusedByBudget(abort: AbortController): boolean {
    const refused = this.deps.budget.refusal(this.sessionId);
    if (!refused) return false;
    abort.abort(BUDGET_REACHED);
    if (!refused.told) this.record({ kind: "error", code: "budget_exceeded", message: refused.reached.message });
    return true;
  }

  private async runTurn(): Promise<void> {
    const session = this.deps.sessions.get(this.sessionId);
    if (session.state !== "active") {
      this.record({ kind: "error", message: `The session is ${session.state}; the agent only works in an active session.` });
      return;
    }
    let tools: ToolRegistry;
    try {
      tools = await this.deps.toolsFor(session);
    } catch (error) {
      this.record({ kind: "error", message: `The agent's tools could not be made ready: ${error instanceof Error ? error.message : String(error)}` });
      return;
    }
    const abort = (this.abort = new AbortController());
    if (this.refusedByBudget(abort)) return;
    // The turn's cost is what the ledger gained for the session meanwhile: the engine's own rows,
    // or those Pier's gateway recorded for Claude Code's requests.
    const mark = ledgerMark(this.deps.db);
    let begun = false;
    const payer = { sessionId: session.id, taskId: session.taskId, userId: session.userId, repoId: session.repoId };
    const turn: Turn = {
      session,
      signal: abort.signal,
      tools,
      authorize: (call) => this.deps.authorize(session, call, abort.signal, (item) => this.record(item)),
      items: () => loadItems(this.deps.db, this.sessionId),
      begin: () => {
        begun = true;
        beginOpenTurn(this.deps.db, this.sessionId, mark);
        this.stream({ kind: "turn_start" });
      },
      record: (item) => this.record(item),
      stream: (item) => this.stream(item),
      recordUsage: (model, used) => {
        recordUsage(this.deps.db, { ...payer, model, usage: used }, addSessionCost);
        this.deps.budget.spent(session.id);
      },
      meterResponse: () => new ResponseMeter(this.deps.db, payer, addSessionCost, () => this.deps.budget.spent(session.id)),
      overBudget: () => this.refusedByBudget(abort),
    };
    try {
      await this.deps.engine.runTurn(turn);
    } catch (error) {
      // An engine reports the failures it knows as items; any other still reaches the person.
      this.record({ kind: "error", message: `The agent stopped on an unexpected error: ${error instanceof Error ? error.message : String(error)}` });
    }
    this.clearDraft();
    if (!begun) return;
    const { usage, costUsd } = spentSince(this.deps.db, session.id, mark);
    const sessionCostUsd = this.deps.sessions.get(this.sessionId).costUsd;
    const end = endOpenTurn(this.deps.db, this.sessionId, { kind: "turn_end", usage, costUsd, sessionCostUsd, interrupted: abort.signal.aborted });
    this.deps.bus.publish("chat.event", this.sessionId, eventOf(end));
  }
}
