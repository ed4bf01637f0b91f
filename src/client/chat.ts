// The session page's chat with the Claude agent working in the session's worktree, on the chat
// WebSocket (src/chat/protocol.ts). Bundled into public/vendor/chat.js.

import type { ServerEvent } from "../chat/protocol.ts";
import { Composer } from "./chat-composer.ts";
import { ChatConnection, type ChatConnectionState } from "./chat-connection.ts";
import { formatCost } from "./chat-format.ts";
import { ChatLog } from "./chat-log.ts";
import { ChatStatus } from "./chat-status.ts";
import { el } from "./dom.ts";

declare global {
  interface Window {
    /** For the browser tests. `items` counts the conversation's entries (queued messages included). */
    pierChat?: { state(): { connection: ChatConnectionState["kind"]; running: boolean; items: number } };
  }
}

const placeholder = document.querySelector<HTMLElement>("[data-chat]");
if (placeholder) startChat(placeholder, placeholder.dataset.chat ?? "");

/** Replaces `host`'s content with the chat. `path` is the WebSocket's, /api/sessions/<id>/chat. */
function startChat(host: HTMLElement, path: string): void {
  const log = new ChatLog();
  const composer = new Composer({
    send: (text) => connection.send({ type: "message", text }),
    stop: () => connection.send({ type: "interrupt" }),
  });
  const status = new ChatStatus(() => connection.reconnect());
  const root = el("div", { class: "chat", "data-state": "connecting" }, status.element, log.element, composer.element);
  composer.element.prepend(log.jumpButton);
  host.replaceChildren(root);

  let running = false;
  const setRunning = (value: boolean) => {
    running = value;
    root.dataset.running = String(value);
    composer.setRunning(value);
  };
  // How queued messages reach the conversation when their turn starts: the server says so with a
  // user_message (queued:false); should a turn start without one, the oldest queued message is it.
  let userSinceTurnEnd = false;
  let promoted: string | null = null;

  const apply = (event: ServerEvent) => {
    if (event.type !== "retrying") log.clearNotice();
    switch (event.type) {
      case "history":
        log.clear();
        for (const item of event.messages) log.replay(item);
        for (const text of event.queued) log.queued(text);
        setRunning(event.running);
        showSessionCost(event.sessionCostUsd);
        userSinceTurnEnd = false;
        promoted = null;
        return;
      case "user_message":
        if (event.queued) return log.queued(event.text);
        if (promoted !== null && promoted === event.text) promoted = null;
        else {
          log.dequeue(event.text);
          log.user(event.text);
        }
        userSinceTurnEnd = true;
        return;
      case "turn_start": {
        setRunning(true);
        const next = userSinceTurnEnd ? null : log.dequeue();
        if (next !== null) log.user(next);
        promoted = next;
        userSinceTurnEnd = false;
        return;
      }
      case "text_delta":
        return log.delta(event.text);
      case "assistant_message":
        return log.assistant(event.text);
      case "tool_call":
        return log.toolCall(event.id, event.name, event.input);
      case "tool_result":
        return log.toolResult(event.id, event.output, event.isError, event.diff);
      case "retrying":
        return log.retrying(event.attempt, event.delayMs, event.reason);
      case "turn_end":
        log.turnEnd(event.costUsd, event.usage, event.interrupted);
        if (event.sessionCostUsd !== undefined) showSessionCost(event.sessionCostUsd);
        setRunning(false);
        userSinceTurnEnd = false;
        promoted = null;
        return;
      case "error":
        return log.error(event.message, event.settingsUrl);
      case "summary":
        return log.summary();
    }
  };

  const connection = new ChatConnection(socketUrl(path), {
    event: apply,
    state: (state) => {
      root.dataset.state = state.kind;
      status.show(state);
      if (state.kind === "connected") composer.connected();
      if (state.kind === "ended") {
        log.clearNotice();
        setRunning(false);
        composer.disable();
      }
    },
  });
  // Back on the network: no need to wait out the back-off.
  window.addEventListener("online", () => {
    if (connection.state.kind === "reconnecting") connection.reconnect();
  });
  window.pierChat = { state: () => ({ connection: connection.state.kind, running, items: log.count() }) };
  connection.connect();
}

/** The session's running cost in the page header. */
function showSessionCost(usd: number): void {
  const cost = document.getElementById("session-cost");
  if (cost) cost.textContent = formatCost(usd);
}

function socketUrl(path: string): string {
  const url = new URL(path, window.location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return url.href;
}
