// The line above the chat's conversation: the connection's state, Reconnect while it is down, and
// a notice once the session has ended.

import type { ChatConnectionState } from "./chat-connection.ts";
import { el } from "./dom.ts";
import { showSocketState } from "./session-socket.ts";

export class ChatStatus {
  readonly element: HTMLElement;
  private readonly label = el("span", {}, "Connecting…");
  private readonly notice = el("p", { class: "chat-ended", role: "alert", hidden: true });
  private readonly reconnectButton = el("button", { type: "button", class: "small", hidden: true }, "Reconnect");
  private stopCountdown = () => {};

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
    this.stopCountdown();
    this.reconnectButton.hidden = state.kind !== "reconnecting";
    this.notice.hidden = state.kind !== "ended" && state.kind !== "signed_out";
    if (state.kind === "ended") this.notice.replaceChildren("This session has ended; the agent can no longer be reached.");
    if (state.kind === "signed_out") this.notice.replaceChildren("You were signed out. ", el("a", { href: "/login" }, "Sign in again"));
    this.stopCountdown = showSocketState(this.label, state, LABELS);
  }
}

const LABELS: Record<Exclude<ChatConnectionState["kind"], "reconnecting">, string> = {
  connecting: "Connecting…",
  connected: "Connected",
  ended: "Session ended",
  signed_out: "Signed out",
};
