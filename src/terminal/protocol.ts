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
