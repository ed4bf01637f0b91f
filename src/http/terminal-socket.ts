import type { ServerWebSocket } from "bun";
import { Elysia } from "elysia";
import { AppError } from "../infra/errors.ts";
import type { Pier } from "../pier.ts";
import { parseClientMessage } from "../terminal/protocol.ts";
import type { TerminalHost, Watcher } from "../terminal/terminal-host.ts";
import { requireActor } from "./auth.ts";
import { trackSessionSocket } from "./session-sockets.ts";

/** A new watcher waits this long for its first resize, so its snapshot fits its screen. */
const FIRST_RESIZE_WAIT_MS = 300;

/** A socket follows at most this many lost terminals in a while; more are left to the viewer's reconnecting. */
const MAX_FOLLOWS = 3;
const FOLLOW_WINDOW_MS = 60_000;

/** What one open terminal socket needs between its events. */
interface Attachment {
  watcher: Watcher;
  host: Promise<TerminalHost>;
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
      };
      const release = trackSessionSocket(pier, ws.data, session.id, raw);
      const attachment: Attachment = { watcher, host: pier.hosts.terminal(session), attached: null, release };
      open.set(raw, attachment);
      // A shell lost with its pod is followed, on this same socket, by the session's next one
      // (which says so): the viewer goes on by itself instead of waiting on a dead terminal. Lost
      // again and again, the socket closes instead, so the viewer's back-off paces the tries.
      let followed: number[] = [];
      const follow = (host: Promise<TerminalHost>) => {
        host.then(
          (terminal) => terminal.onExit((how) => {
            if (how !== "lost" || open.get(raw) !== attachment || !pier.sessions.findLive(session.id)) return;
            followed = [...followed.filter((at) => Date.now() - at < FOLLOW_WINDOW_MS), Date.now()];
            if (followed.length > MAX_FOLLOWS) return raw.close(1011, "terminal lost again");
            attachment.host = pier.hosts.terminal(session);
            attachment.attached = null;
            follow(attachment.host);
            void attach(attachment);
          }),
          (error: Error) => {
            watcher.sendControl({ type: "error", message: error.message });
            raw.close(1011, "terminal unavailable");
          },
        );
      };
      follow(attachment.host);
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
        const host = await attachment.host;
        if (message.type === "resize") {
          // Kept: a terminal that follows a lost one is attached at the viewer's size too.
          attachment.pendingSize = { cols: message.cols, rows: message.rows };
          if (!attachment.attached) {
            await attach(attachment);
          } else {
            await host.resize(attachment.watcher, message.cols, message.rows);
          }
        } else {
          await host.input(attachment.watcher, message.data);
        }
      } catch (error) {
        attachment.watcher.sendControl({ type: "error", message: error instanceof Error ? error.message : String(error) });
      }
    },
    async drain(ws) {
      const attachment = open.get(ws.raw);
      if (!attachment?.attached) return;
      try {
        await (await attachment.host).drained(attachment.watcher);
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
      const host = await attachment.host.catch(() => null);
      host?.detach(attachment.watcher);
    },
  });
}

/** Attaches the watcher once, with the size it sent first (if it sent one in time). */
function attach(attachment: Attachment): Promise<void> {
  clearTimeout(attachment.timer);
  // A terminal that fails here (its tmux gone) says so to the watcher; nothing is left unhandled.
  attachment.attached ??= attachment.host
    .then((host) => host.attach(attachment.watcher, attachment.pendingSize))
    .catch((error: Error) => attachment.watcher.sendControl({ type: "error", message: error.message }));
  return attachment.attached;
}
