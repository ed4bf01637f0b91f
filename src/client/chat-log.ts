// The conversation: messages, tool calls, errors and turn costs, in a box that follows the newest
// output while the reader is at the bottom and stays put when they have scrolled up.

import type { Usage } from "../costs/usage.ts";
import { formatCost, formatUsage } from "./chat-format.ts";
import { renderMarkdown } from "./chat-markdown.ts";
import type { ApprovalScope } from "../chat/protocol.ts";
import { ApprovalCard, type Answerer } from "./chat-approval.ts";
import { ToolCallView, orphanResult } from "./chat-tools.ts";
import { el } from "./dom.ts";

/** Within this many pixels of the bottom counts as at the bottom. */
const BOTTOM_SLACK_PX = 48;

interface Stream {
  element: HTMLElement;
  text: string;
  frame: number | undefined;
}

export class ChatLog {
  /** The scrolling box. */
  readonly element: HTMLElement;
  /** Shown when new output arrives below while the reader has scrolled up. */
  readonly jumpButton: HTMLButtonElement;
  private readonly items = el("div", { class: "chat-items", role: "log", "aria-label": "Conversation" });
  /** Messages waiting for the agent's current turn to end; always below the conversation. */
  private readonly queue = el("div", { class: "chat-queue", "aria-label": "Queued messages" });
  private readonly empty = el("p", { class: "chat-empty muted" }, "Ask the agent to do something in this session's worktree.");
  private readonly tools = new Map<string, ToolCallView>();
  private readonly approvals = new Map<string, ApprovalCard>();
  private stream: Stream | null = null;
  private notice: { element: HTMLElement; timer: ReturnType<typeof setInterval> } | null = null;
  private following = true;

  /** `answer` sends a person's answer to an approval card. */
  constructor(private readonly answer: Answerer) {
    this.element = el("div", { class: "chat-log", tabindex: "0", "aria-label": "Chat messages" }, this.empty, this.items, this.queue);
    this.jumpButton = el("button", { type: "button", class: "chat-jump small", hidden: true }, "↓ Latest");
    this.jumpButton.addEventListener("click", () => {
      this.following = true;
      this.follow();
    });
    this.element.addEventListener("scroll", () => {
      const box = this.element;
      this.following = box.scrollHeight - box.scrollTop - box.clientHeight <= BOTTOM_SLACK_PX;
      if (this.following) this.jumpButton.hidden = true;
    });
    // Content that grows on its own (an opened <details>) and a box that shrinks (a phone's keyboard).
    const resized = new ResizeObserver(() => this.follow());
    resized.observe(this.element);
    resized.observe(this.items);
  }

  /** The conversation items shown, queued messages included (notices are not items). */
  count(): number {
    return this.element.querySelectorAll(".chat-item").length;
  }

  clear(): void {
    this.endStream();
    this.clearNotice();
    this.tools.clear();
    this.approvals.clear();
    this.items.replaceChildren();
    this.queue.replaceChildren();
    this.following = true;
    this.changed();
  }

  /** Older turns were summarised for the model; the person still sees them all. */
  summary(): void {
    this.endStream();
    this.add(el("p", { class: "chat-item chat-notice" }, "Earlier turns were summarised for the agent to stay within its context window."));
  }

  user(text: string): void {
    this.endStream();
    this.add(userBubble(text, false));
  }

  queued(text: string): void {
    this.queue.append(userBubble(text, true));
    this.changed();
  }

  /** Moves the queued messages, but the newest `keep`, into the conversation: their turn has come. */
  unqueue(keep: number): void {
    const waiting = [...this.queue.querySelectorAll<HTMLElement>(".chat-user")];
    for (const bubble of waiting.slice(0, Math.max(0, waiting.length - keep))) {
      bubble.remove();
      this.user(bubble.dataset.text ?? "");
    }
  }

  /** Streamed model text: the current bubble re-renders its Markdown at most once a frame. */
  delta(text: string): void {
    if (!this.stream) {
      const element = el("div", { class: "chat-item chat-assistant chat-markdown", "data-streaming": "", "aria-busy": "true" });
      this.stream = { element, text: "", frame: undefined };
      this.add(element);
    }
    const stream = this.stream;
    stream.text += text;
    stream.frame ??= requestAnimationFrame(() => {
      stream.frame = undefined;
      stream.element.replaceChildren(renderMarkdown(stream.text));
      this.changed();
    });
  }

  /** A finished block of text: it replaces the streamed one. */
  assistant(text: string): void {
    const element = this.stream?.element ?? el("div", { class: "chat-item chat-assistant chat-markdown" });
    const streamed = this.stream !== null;
    this.endStream(false);
    element.replaceChildren(renderMarkdown(text));
    if (streamed) this.changed();
    else this.add(element);
  }

  toolCall(id: string, name: string, input: unknown): void {
    this.endStream();
    const view = new ToolCallView(name, input);
    this.tools.set(id, view);
    this.add(view.element);
  }

  toolResult(id: string, output: string, isError: boolean, diff?: string, refused?: boolean): void {
    const view = this.tools.get(id);
    if (!view) return this.add(orphanResult(output, isError, diff));
    view.finish(output, isError, diff, refused);
    this.changed();
  }

  /** The tool policy asks before a call runs; `live` when it can be answered now (not while replaying the history). */
  approvalRequest(id: string, tool: string, input: unknown, diff: string | undefined, live: boolean): void {
    this.endStream();
    const card = new ApprovalCard(id, tool, input, diff, this.answer);
    this.approvals.set(id, card);
    this.tools.get(id)?.awaitingApproval();
    this.add(card.element);
    if (live) card.live();
  }

  approvalDecision(id: string, allow: boolean, scope: ApprovalScope, by: string | null, reason?: string): void {
    this.approvals.get(id)?.decided(allow, scope, by, reason);
    if (allow) this.tools.get(id)?.approved();
    this.changed();
  }

  /** After the history: the cards still waiting can be answered if the server says so, and have expired if not. */
  settleApprovals(pending: string[]): void {
    for (const card of this.approvals.values()) {
      if (!card.waiting) continue;
      if (pending.includes(card.id)) card.live();
      else {
        card.expire();
        this.tools.get(card.id)?.notRun();
      }
    }
  }

  /** Whether a card waits for an answer now. */
  awaitingApproval(): boolean {
    return [...this.approvals.values()].some((card) => card.waiting);
  }

  turnEnd(costUsd: number, usage: Usage, interrupted: boolean): void {
    this.endStream();
    // Tools still running when a turn is interrupted never report.
    for (const view of this.tools.values()) {
      if (view.element.dataset.state === "running") view.element.dataset.state = "stopped";
    }
    const text = `${interrupted ? "Stopped · " : ""}${formatCost(costUsd)}`;
    this.add(el("p", { class: "chat-item chat-turn-end", title: formatUsage(usage) }, text));
  }

  error(message: string, settingsUrl?: string, tokensUrl?: string): void {
    this.endStream();
    const alert = el("div", { class: "chat-item chat-error", role: "alert" }, el("span", {}, message));
    if (settingsUrl) alert.append(" ", el("a", { href: settingsUrl }, "Open settings"));
    if (tokensUrl) alert.append(" ", el("a", { href: tokensUrl }, "Open Tokens"));
    this.add(alert);
  }

  /**
   * A transient notice while Pier waits out the model service's trouble; gone with the next event.
   * `discardStreamed`: the streamed text was the failed try's, and the next try's answer replaces it.
   */
  retrying(attempt: number, delayMs: number, reason: string, discardStreamed: boolean): void {
    this.clearNotice();
    if (discardStreamed && this.stream) {
      const dropped = this.stream.element;
      this.endStream(false);
      dropped.remove();
    }
    const element = el("p", { class: "chat-notice", role: "status" });
    const until = Date.now() + delayMs;
    const tick = () => {
      const seconds = Math.max(0, Math.ceil((until - Date.now()) / 1000));
      const when = seconds > 0 ? `retrying in ${seconds} s…` : "retrying…";
      element.textContent = `${reason}; ${when}${attempt > 1 ? ` (attempt ${attempt + 1})` : ""}`;
    };
    tick();
    this.notice = { element, timer: setInterval(tick, 1000) };
    this.items.append(element);
    this.changed();
  }

  clearNotice(): void {
    if (!this.notice) return;
    clearInterval(this.notice.timer);
    this.notice.element.remove();
    this.notice = null;
  }

  /** Done with the streamed bubble: later text starts a new one. `flush` renders what came so far. */
  private endStream(flush = true): void {
    const stream = this.stream;
    if (!stream) return;
    this.stream = null;
    if (stream.frame !== undefined) cancelAnimationFrame(stream.frame);
    if (flush) stream.element.replaceChildren(renderMarkdown(stream.text));
    stream.element.removeAttribute("data-streaming");
    stream.element.removeAttribute("aria-busy");
  }

  private add(element: HTMLElement): void {
    // The retry notice stays last, under whatever arrived since.
    if (this.notice) this.notice.element.before(element);
    else this.items.append(element);
    this.changed();
  }

  private changed(): void {
    this.empty.hidden = this.items.childElementCount > 0 || this.queue.childElementCount > 0;
    if (this.following) this.follow();
    else this.jumpButton.hidden = false;
  }

  private follow(): void {
    if (!this.following) return;
    this.element.scrollTop = this.element.scrollHeight;
    this.jumpButton.hidden = true;
  }
}

function userBubble(text: string, queued: boolean): HTMLElement {
  const bubble = el("div", { class: queued ? "chat-item chat-user chat-queued" : "chat-item chat-user" }, el("p", {}, text));
  bubble.dataset.text = text;
  if (queued) bubble.append(el("span", { class: "chat-queued-label" }, "Queued"));
  return bubble;
}
