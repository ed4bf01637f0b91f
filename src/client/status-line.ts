import type { ConnectionState } from "./connection.ts";
import { el, pressButton } from "./dom.ts";
import { showSocketState } from "./session-socket.ts";

/**
 * The line above the terminal: the connection's state, a notice when something needs the user
 * (the session ended, the shell exited, an error from the server), and the tool buttons.
 */
export class StatusLine {
  readonly element: HTMLElement;
  private readonly label = el("span", { class: "term-state-label" }, "Connecting…");
  private readonly notice = el("p", { class: "term-notice", role: "alert", hidden: true });
  private readonly reconnectButton: HTMLButtonElement;
  private stopCountdown = () => {};

  /** `outputPage` is where an ended session's recorded output is; `root` carries data-state for the stylesheet. */
  constructor(
    private readonly root: HTMLElement,
    private readonly outputPage: string,
    onReconnect: () => void,
    tools: HTMLElement[],
  ) {
    this.reconnectButton = pressButton("Reconnect", "Reconnect", onReconnect);
    this.reconnectButton.hidden = true;
    this.element = el(
      "div",
      { class: "term-bar" },
      el("p", { class: "term-state", role: "status" }, this.label),
      this.notice,
      this.reconnectButton,
      el("div", { class: "term-tools" }, ...tools),
    );
  }

  show(state: ConnectionState): void {
    this.root.dataset.state = state.kind;
    this.stopCountdown();
    this.reconnectButton.hidden = state.kind !== "reconnecting" && state.kind !== "exited";
    this.stopCountdown = showSocketState(this.label, state, LABELS);
    if (state.kind === "connected") this.clearNotice();
    if (state.kind === "exited") this.notify("The shell exited. Reconnect to start a new one.");
    if (state.kind === "ended") {
      this.notify("This session has ended. ");
      this.notice.append(el("a", { href: this.outputPage }, "See its recorded output"));
    }
    if (state.kind === "signed_out") {
      this.notify("You were signed out. ");
      this.notice.append(el("a", { href: "/login" }, "Sign in again"));
    }
  }

  notify(message: string): void {
    this.notice.replaceChildren(message);
    this.notice.hidden = false;
  }

  private clearNotice(): void {
    this.notice.replaceChildren();
    this.notice.hidden = true;
  }
}

const LABELS: Record<Exclude<ConnectionState["kind"], "reconnecting">, string> = {
  connecting: "Connecting…",
  connected: "Connected",
  exited: "Shell exited",
  ended: "Ended",
  signed_out: "Signed out",
};
