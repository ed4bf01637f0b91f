// The line above the chat's conversation: the connection's state, Reconnect while it is down, and
// a notice once the session has ended.

import type { ChatConnectionState } from "./chat-connection.ts";
import { el } from "./dom.ts";

export class ChatStatus {
  readonly element: HTMLElement;
  private readonly label = el("span", {}, "Connecting…");
  private readonly notice = el("p", { class: "chat-ended", role: "alert", hidden: true }, "This session has ended; the agent can no longer be reached.");
  private readonly reconnectButton = el("button", { type: "button", class: "small", hidden: true }, "Reconnect");
  private countdown: ReturnType<typeof setInterval> | undefined;

  constructor(onReconnect: () => void) {
    this.reconnectButton.addEventListener("click", onReconnect);
    this.element = el(
      "div",
      { class: "chat-bar" },
      el("p", { class: "chat-state", role: "status" }, this.label),
      this.reconnectButton,
      this.notice,
    );
  }

  show(state: ChatConnectionState): void {
    clearInterval(this.countdown);
    this.reconnectButton.hidden = state.kind !== "reconnecting";
    this.notice.hidden = state.kind !== "ended";
    if (state.kind === "reconnecting") {
      const tick = () => {
        const seconds = Math.max(1, Math.ceil((state.at - Date.now()) / 1000));
        this.label.textContent = `Reconnecting in ${seconds} s`;
      };
      tick();
      this.countdown = setInterval(tick, 1000);
      return;
    }
    this.label.textContent = LABELS[state.kind];
  }
}

const LABELS: Record<Exclude<ChatConnectionState["kind"], "reconnecting">, string> = {
  connecting: "Connecting…",
  connected: "Connected",
  ended: "Session ended",
};
