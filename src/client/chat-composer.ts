// Where the user writes to the agent: a textarea that grows with its text (Enter sends,
// Shift+Enter starts a new line), Send, and while the agent works, a working line with Stop.

import { el } from "./dom.ts";

export interface ComposerActions {
  /** False when the message could not be sent (no connection): the text stays in the box. */
  send(text: string): boolean;
  stop(): boolean;
}

export class Composer {
  readonly element: HTMLFormElement;
  private readonly textarea = el("textarea", {
    class: "chat-input",
    rows: "1",
    "aria-label": "Message the agent",
    placeholder: "Message the agent",
    enterkeyhint: "send",
    autocomplete: "off",
  });
  private readonly sendButton = el("button", { type: "submit", class: "primary" }, "Send");
  private readonly stopButton = el("button", { type: "button", class: "danger chat-stop" }, "Stop");
  private readonly workingText = el("span", {}, "Working…");
  private readonly working = el(
    "div",
    { class: "chat-working", hidden: true },
    el("p", { class: "chat-working-label", role: "status" }, el("span", { class: "chat-spinner", "aria-hidden": "true" }), this.workingText),
    this.stopButton,
  );
  private readonly hint = el("p", { class: "chat-hint", role: "status", hidden: true });

  constructor(private readonly actions: ComposerActions) {
    this.element = el(
      "form",
      { class: "chat-composer", "aria-label": "Message the agent" },
      this.working,
      el("div", { class: "chat-compose-row" }, this.textarea, this.sendButton),
      this.hint,
    );
    this.element.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
    this.textarea.addEventListener("keydown", (event) => {
      if (event.key !== "Enter" || event.shiftKey || event.altKey || event.isComposing) return;
      event.preventDefault();
      this.submit();
    });
    this.textarea.addEventListener("input", () => this.fit());
    this.stopButton.addEventListener("click", () => {
      if (!this.actions.stop()) return this.say("Not connected; the agent could not be stopped yet.");
      this.stopButton.disabled = true;
      this.stopButton.textContent = "Stopping…";
    });
  }

  setRunning(running: boolean): void {
    this.working.hidden = !running;
    this.element.dataset.running = String(running);
    if (!running) {
      this.stopButton.disabled = false;
      this.stopButton.textContent = "Stop";
    }
  }

  /** The agent waits for an approval above (the card says what for), or works on. */
  setAwaitingApproval(awaiting: boolean): void {
    this.workingText.textContent = awaiting ? "Waiting for your approval…" : "Working…";
  }

  /** The session ended: nothing more can be sent. */
  disable(): void {
    this.textarea.disabled = true;
    this.sendButton.disabled = true;
    this.setRunning(false);
    this.hint.hidden = true;
  }

  /** Hides a "not connected" hint once the connection is back. */
  connected(): void {
    this.hint.hidden = true;
  }

  private submit(): void {
    const text = this.textarea.value;
    if (text.trim() === "" || this.textarea.disabled) return;
    if (!this.actions.send(text)) return this.say("Not connected; your message is kept here until you can send it.");
    this.hint.hidden = true;
    this.textarea.value = "";
    this.fit();
  }

  private say(message: string): void {
    this.hint.textContent = message;
    this.hint.hidden = false;
  }

  /** As tall as the text, up to the stylesheet's max-height (then it scrolls). */
  private fit(): void {
    const box = this.textarea;
    box.style.height = "auto";
    box.style.height = `${box.scrollHeight + box.offsetHeight - box.clientHeight}px`;
  }
}
