/**
 * The terminal WebSocket's messages (/api/sessions/:id/terminal), shared by the server, the
 * browser and the tests. Like ttyd's: the stream is bytes plus a handful of small control messages.
 *
 * Server → client: binary frames are raw terminal output; text frames are JSON control messages.
 * Client → server: JSON text frames, keystrokes and the terminal's size.
 *
 * The browser bundle imports this file: it imports nothing.
 */
export type ClientMessage = { type: "input"; data: string } | { type: "resize"; cols: number; rows: number };

/** Server → client control messages. */
export type ControlMessage =
  /** The session ended; the socket closes with 4001 right after. */
  | { type: "ended" }
  /** The shell exited; a new connection starts a new one. */
  | { type: "exited" }
  /** A frame was refused or the terminal failed; the sentence is for the person. */
  | { type: "error"; message: string }
  /** Pier tells the person something about their pod (it stopped what was filling the disk); shown as a line in the terminal. */
  | { type: "notice"; message: string };

/** The biggest frame a client may send (the server's WebSocket limit); a bigger paste goes in several frames. */
export const MAX_FRAME_BYTES = 256 * 1024;
/** The most columns or rows a resize may ask for. */
export const MAX_DIMENSION = 1000;

/** The client's message (a text frame, or the JSON already parsed from one), or a sentence saying what is wrong with it. */
export function parseClientMessage(body: unknown): ClientMessage | string {
  let value = body;
  if (typeof body === "string") {
    try {
      value = JSON.parse(body);
    } catch {
      return "Messages must be JSON: {\"type\":\"input\",\"data\":\"…\"} or {\"type\":\"resize\",\"cols\":N,\"rows\":N}.";
    }
  }
  if (!value || typeof value !== "object") return "Messages must be JSON objects with a type.";
  const message = value as Record<string, unknown>;
  if (message.type === "input") {
    if (typeof message.data !== "string") return "An input message needs data as a string.";
    return { type: "input", data: message.data };
  }
  if (message.type === "resize") {
    const { cols, rows } = message;
    const ok = (n: unknown) => Number.isInteger(n) && (n as number) >= 1 && (n as number) <= MAX_DIMENSION;
    if (!ok(cols) || !ok(rows)) return `A resize needs whole numbers cols and rows from 1 to ${MAX_DIMENSION}.`;
    return { type: "resize", cols: cols as number, rows: rows as number };
  }
  return `Unknown message type ${JSON.stringify(message.type)}; use input or resize.`;
}
