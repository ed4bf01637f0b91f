import { insufficientStorage, isDiskFull } from "../infra/disk-full.ts";
import type { ServerWebSocket } from "bun";
import { Elysia } from "elysia";
import { parseClientMessage } from "../chat/client-messages.ts";
import type { ServerEvent } from "../chat/protocol.ts";
import { assertSpeaker } from "../chat/speaker.ts";
import { AppError } from "../infra/errors.ts";
import type { Pier } from "../pier.ts";
import { requireActor } from "./auth.ts";
import { trackSessionSocket } from "./session-sockets.ts";

/**
 * WebSocket /api/sessions/:id/chat: the conversation so far on connect, then its items live, as
 * the conversation publishes them on the event bus. Authenticated and owner-or-admin like the
 * terminal (an admin reads along, but only the session's own person's messages are taken: see
 * src/chat/speaker.ts); cross-site upgrades are refused in the app's request hook. An ended session's
 * conversation can still be read.
 */
export function chatSocket(pier: Pier) {
  const open = new WeakMap<object, () => void>();

  return new Elysia().ws("/api/sessions/:id/chat", {
    beforeHandle(ctx) {
      pier.sessions.getFor(requireActor(pier, ctx), ctx.params.id);
    },
    open(ws) {
      const sessionId = ws.data.params.id;
      const raw = ws.raw as unknown as ServerWebSocket;
      const send = (event: ServerEvent) => void raw.sendText(JSON.stringify(event));
      // The history, then every item after it: read and subscribed in one synchronous run, so no
      // item falls between them or comes twice.
      const live = pier.hosts.get(sessionId);
      send(live ? live.chat().history() : pier.chats.history(sessionId));
      const unsubscribe = pier.bus.subscribe("chat.event", sessionId, send);
      const release = trackSessionSocket(pier, ws.data, sessionId, raw);
      open.set(raw, () => {
        unsubscribe();
        release();
      });
    },
    async message(ws, body) {
      const raw = ws.raw as unknown as ServerWebSocket;
      const sessionId = ws.data.params.id;
      // Told to this socket alone: a message that was not taken is no item of the conversation.
      const refuse = (why: string) => void raw.sendText(JSON.stringify({ type: "error", message: why, at: new Date().toISOString() } satisfies ServerEvent));
      const message = parseClientMessage(body);
      if (typeof message === "string") return refuse(message);
      if (message.type === "approval") {
        // The answer shows to every viewer as the conversation's approval_decision; a refusal to this one alone.
        try {
          pier.approvals.answer(requireActor(pier, ws.data), sessionId, message.id, { allow: message.allow, scope: message.scope });
        } catch (error) {
          refuse(error instanceof AppError ? error.message : "The approval could not be recorded.");
        }
        return;
      }
      const session = pier.sessions.get(sessionId);
      if (message.type === "message") {
        try {
          assertSpeaker(requireActor(pier, ws.data), session);
        } catch (error) {
          return refuse(error instanceof AppError ? error.message : "The message could not be taken.");
        }
      }
      const host = pier.hosts.get(sessionId);
      if (session.state !== "active" || !host) return refuse("The session is not active; resume it to talk to the agent.");
      const conversation = host.chat();
      if (message.type === "interrupt") return void (await conversation.interrupt());
      try {
        conversation.send(message.text);
      } catch (error) {
        // Not kept, so not taken: the person is told why, and may send it again once there is room.
        if (!isDiskFull(error)) throw error;
        refuse(insufficientStorage().message);
      }
    },
    close(ws) {
      const raw = ws.raw as unknown as object;
      open.get(raw)?.();
      open.delete(raw);
    },
  });
}
