// An approval card in the chat: the tool the agent wants to run and what it would do (the
// command for bash, the change for a file edit), with Approve, Allow for this session and Deny.
// It resolves in place when answered here, in another tab or over the API, and shows as expired
// when the turn that asked is gone (a restart).

import type { ApprovalScope } from "../chat/protocol.ts";
import { diffView, inputView } from "./chat-tools.ts";
import { el } from "./dom.ts";

export type Answer = { allow: boolean; scope: ApprovalScope };

/** Sends an answer; resolves with null once the server took it, or with the sentence it refused it with. */
export type Answerer = (id: string, answer: Answer) => Promise<string | null>;

export class ApprovalCard {
  readonly element: HTMLElement;
  private readonly status = el("p", { class: "chat-approval-status", role: "status" });
  private readonly actions: HTMLElement;
  private readonly buttons: HTMLButtonElement[];

  constructor(
    readonly id: string,
    tool: string,
    input: unknown,
    diff: string | undefined,
    private readonly answerer: Answerer,
  ) {
    const titleId = `approval-${cssSafe(id)}`;
    const approve = button("Approve", "primary", () => this.answer({ allow: true, scope: "once" }));
    const always = button("Allow for this session", "", () => this.answer({ allow: true, scope: "session" }));
    const deny = button("Deny", "danger", () => this.answer({ allow: false, scope: "once" }));
    always.title = `Run ${tool} without asking again in this session`;
    this.buttons = [approve, always, deny];
    this.actions = el("div", { class: "chat-approval-actions" }, ...this.buttons);
    this.element = el(
      "div",
      { class: "chat-item chat-approval", role: "group", "data-state": "waiting", "data-approval": id, "aria-labelledby": titleId },
      el("p", { class: "chat-approval-title", id: titleId }, "Run ", el("code", {}, tool), "?"),
      what(tool, input, diff),
      this.actions,
      this.status,
    );
  }

  get waiting(): boolean {
    return this.element.dataset.state === "waiting";
  }

  /** It can be answered now: say so to screen readers too. */
  live(): void {
    if (!this.waiting) return;
    this.element.dataset.live = "";
    this.status.textContent = "Waiting for your answer; nothing runs until you approve.";
  }

  /** Answered (here or elsewhere), or refused because the turn was stopped. */
  decided(allow: boolean, scope: ApprovalScope, by: string | null, reason?: string): void {
    const text = by
      ? `${allow ? "Approved" : "Denied"} by ${by}${allow && scope === "session" ? " for the rest of this session" : ""}.`
      : `Not run: ${(reason ?? "nobody answered").replace(/\.$/, "")}.`;
    this.settle(allow ? "approved" : "denied", text);
  }

  /** The turn that asked is gone (Pier restarted): it can no longer be answered, and did not run. */
  expire(): void {
    if (this.waiting) this.settle("expired", "Expired: the turn that asked ended before anyone answered, so it did not run.");
  }

  private async answer(answer: Answer): Promise<void> {
    if (!this.waiting) return;
    for (const b of this.buttons) b.disabled = true;
    this.status.textContent = "Sending…";
    const refused = await this.answerer(this.id, answer);
    if (!this.waiting) return;
    if (refused === null) {
      this.status.textContent = answer.allow ? "Approved; running…" : "Denied.";
      return;
    }
    for (const b of this.buttons) b.disabled = false;
    this.status.textContent = refused;
  }

  private settle(state: "approved" | "denied" | "expired", text: string): void {
    this.element.dataset.state = state;
    delete this.element.dataset.live;
    this.actions.remove();
    this.status.textContent = text;
  }
}

/** What the call would do: the command, the change, or the input as given. */
function what(tool: string, input: unknown, diff: string | undefined): HTMLElement {
  const fields = typeof input === "object" && input !== null ? (input as Record<string, unknown>) : {};
  if (tool === "bash" && typeof fields.command === "string") {
    const timeout = typeof fields.timeout_seconds === "number" ? ` (stopped after ${fields.timeout_seconds} s)` : "";
    return el("div", { class: "chat-approval-what" }, el("p", { class: "chat-tool-label" }, `Command${timeout}`), el("pre", { class: "chat-pre chat-approval-command" }, fields.command));
  }
  if (diff) {
    const path = typeof fields.path === "string" ? fields.path : "the file";
    const label = tool === "write_file" ? `Writes ${path} with` : `Changes ${path}`;
    return el("div", { class: "chat-approval-what" }, el("p", { class: "chat-tool-label" }, label), diffView(diff).element);
  }
  return el("div", { class: "chat-approval-what" }, el("p", { class: "chat-tool-label" }, "Input"), inputView(input));
}

function button(text: string, kind: string, onClick: () => void): HTMLButtonElement {
  const b = el("button", { type: "button", class: kind }, text);
  b.addEventListener("click", onClick);
  return b;
}

function cssSafe(id: string): string {
  return id.replace(/[^A-Za-z0-9_-]/g, "_");
}
