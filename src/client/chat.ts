// The session page's chat with the Claude agent working in the session's worktree, on the chat
// WebSocket (src/chat/protocol.ts). Bundled into public/vendor/chat.js.

import { type ServerEvent, eventOf } from "../chat/protocol.ts";
import { Composer } from "./chat-composer.ts";
import { ChatConnection, type ChatConnectionState } from "./chat-connection.ts";
import { showSessionCost } from "./session-cost.ts";
import { ChatLog } from "./chat-log.ts";
import { showItem } from "./chat-items.ts";
import { callApi } from "./api.ts";
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
  // Answers go over HTTP, which says at once whether it was taken (the socket only tells the others).
  const log = new ChatLog(async (id, answer) => {
    const done = await callApi(`${path.replace(/\/chat$/, "")}/approvals/${encodeURIComponent(id)}`, { method: "POST", body: JSON.stringify(answer) });
    return done.ok ? null : done.message;
  });
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

  let replaying = false;
  // One switch for live events and the history alike: each kept item replays as the event it was.
  const apply = (event: ServerEvent): void => {
    if (event.type !== "retrying") log.clearNotice();
    switch (event.type) {
      case "history":
        log.clear();
        replaying = true;
        for (const item of event.messages) apply(eventOf(item));
        replaying = false;
        log.settleApprovals(event.pendingApprovals ?? []);
        composer.setAwaitingApproval(log.awaitingApproval());
        // The server knows which messages still wait; any other left queued (a restart cut its
        // turn off before it ended) is simply part of the conversation.
        log.unqueue(event.queued.length);
        setRunning(event.running);
        showSessionCost(event.sessionCostUsd);
        // Connected mid-answer: what streamed before this connection, which the next deltas continue.
        if (event.streaming) log.delta(event.streaming);
        if (event.retrying) log.retrying(event.retrying.attempt, event.retrying.delayMs, event.retrying.reason, false);
        return;
      case "turn_start":
        return setRunning(true);
      case "text_delta":
        return log.delta(event.text);
      case "user_message":
      case "assistant_message":
      case "tool_call":
      case "tool_result":
      case "error":
      case "summary":
        return showItem(log, event, { live: true, announce: !replaying });
      case "approval_request":
      case "approval_decision":
        showItem(log, event, { live: true, announce: !replaying });
        return composer.setAwaitingApproval(log.awaitingApproval());
      case "retrying":
        return log.retrying(event.attempt, event.delayMs, event.reason, event.discardStreamed === true);
      case "turn_end":
        showItem(log, event, { live: true, announce: !replaying });
        // Messages sent during the turn are what the next turn answers.
        log.unqueue(0);
        if (event.sessionCostUsd !== undefined) showSessionCost(event.sessionCostUsd);
        setRunning(false);
        return;
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


function socketUrl(path: string): string {
  const url = new URL(path, window.location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return url.href;
}
