import type { ServerWebSocket } from "bun";
import { Elysia } from "elysia";
import { POD_LOST_CODE } from "../infra/close-codes.ts";
import { AppError } from "../infra/errors.ts";
import type { Pier } from "../pier.ts";
import { parseClientMessage } from "../terminal/client-messages.ts";
import type { SessionTerminal } from "../terminal/session-terminal.ts";
import type { Watcher } from "../terminal/watchers.ts";
import { requireActor } from "./auth.ts";
import { trackSessionSocket } from "./session-sockets.ts";

/** A new watcher waits this long for its first resize, so its snapshot fits its screen. */
const FIRST_RESIZE_WAIT_MS = 300;

/** What one open terminal socket needs between its events. */
interface Attachment {
  watcher: Watcher;
  terminal: Promise<SessionTerminal>;
  attached: Promise<void> | null;
  pendingSize?: { cols: number; rows: number };
  timer?: ReturnType<typeof setTimeout>;
  release(): void;
}

/**
 * WebSocket /api/sessions/:id/terminal, speaking the messages of terminal/protocol.ts: binary
 * frames carry raw terminal output, text frames small JSON control messages. The upgrade is authenticated (cookie or bearer) and only
 * the session's owner or an admin may attach; cross-site upgrades are refused in the app's
 * request hook before they get here.
 */
export function terminalSocket(pier: Pier) {
  const open = new WeakMap<object, Attachment>();

  return new Elysia().ws("/api/sessions/:id/terminal", {
    beforeHandle(ctx) {
      const session = pier.sessions.getFor(requireActor(pier, ctx), ctx.params.id);
      if (session.state !== "active") {
        throw new AppError(409, "session_not_active", `The session is ${session.state}; its terminal is not running.`);
      }
    },
    open(ws) {
      const session = pier.sessions.get(ws.data.params.id);
      // Elysia's own type of the socket predates getBufferedAmount; Bun's socket has it.
      const raw = ws.raw as unknown as ServerWebSocket;
      const watcher: Watcher = {
        sendBytes: (bytes) => void raw.sendBinary(bytes),
        sendControl: (message) => void raw.sendText(JSON.stringify(message)),
        bufferedAmount: () => raw.getBufferedAmount(),
        lost: () => {
          raw.sendText(JSON.stringify({ type: "error", message: "The connection to the pod was lost; reconnecting." }));
          raw.close(POD_LOST_CODE, "pod connection lost");
        },
      };
      const release = trackSessionSocket(pier, ws.data, session.id, raw);
      const attachment: Attachment = { watcher, terminal: pier.hosts.terminal(session), attached: null, release };
      open.set(raw, attachment);
      attachment.terminal.catch((error: Error) => {
        watcher.sendControl({ type: "error", message: error.message });
        raw.close(1011, "terminal unavailable");
      });
      attachment.timer = setTimeout(() => attach(attachment), FIRST_RESIZE_WAIT_MS);
    },
    async message(ws, body) {
      const attachment = open.get(ws.raw);
      if (!attachment) return;
      const message = parseClientMessage(body);
      if (typeof message === "string") {
        attachment.watcher.sendControl({ type: "error", message });
        return;
      }
      try {
        const terminal = await attachment.terminal;
        if (message.type === "resize") {
          if (!attachment.attached) {
            attachment.pendingSize = { cols: message.cols, rows: message.rows };
            await attach(attachment);
          } else {
            await terminal.resize(attachment.watcher, message.cols, message.rows);
          }
        } else {
          await terminal.input(attachment.watcher, message.data);
        }
      } catch (error) {
        attachment.watcher.sendControl({ type: "error", message: error instanceof Error ? error.message : String(error) });
      }
    },
    async drain(ws) {
      const attachment = open.get(ws.raw);
      if (!attachment?.attached) return;
      try {
        await (await attachment.terminal).drained(attachment.watcher);
      } catch (error) {
        attachment.watcher.sendControl({ type: "error", message: error instanceof Error ? error.message : String(error) });
      }
    },
    async close(ws) {
      const attachment = open.get(ws.raw);
      if (!attachment) return;
      open.delete(ws.raw);
      clearTimeout(attachment.timer);
      attachment.release();
      const terminal = await attachment.terminal.catch(() => null);
      terminal?.detach(attachment.watcher);
    },
  });
}

/** Attaches the watcher once, with the size it sent first (if it sent one in time). */
function attach(attachment: Attachment): Promise<void> {
  clearTimeout(attachment.timer);
  // A terminal that fails here (its tmux gone) says so to the watcher; nothing is left unhandled.
  attachment.attached ??= attachment.terminal
    .then((terminal) => terminal.attach(attachment.watcher, attachment.pendingSize))
    .catch((error: Error) => attachment.watcher.sendControl({ type: "error", message: error.message }));
  return attachment.attached;
}
