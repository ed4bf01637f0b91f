import { isIP } from "node:net";

/**
 * The wire between Pier and a pod's relay (pier-relay.c, whose header describes it): frames of a
 * type byte, a big-endian 32-bit length and the payload on the control connection; one `D` frame
 * and then raw bytes on each data connection. Everything the relay sends is read as a pod's
 * words: each frame's length is bounded by its type before anything is allocated for it, and a
 * payload that does not parse is refused whole.
 */

export const HEADER = 5;
/** The relay Pier places; a relay saying another version is told to exit (and this one started). */
export const RELAY_VERSION = 1;
export const HELLO = 0x48; /* H */
export const LIST = 0x4c; /* L */
export const FAILED = 0x46; /* F */
export const DATA = 0x44; /* D */
export const OPEN = 0x43; /* C */
export const EXIT = 0x58; /* X */
/** An open's id: random, so only the control connection it was sent on can know it. */
export const ID_BYTES = 16;

/** The longest payload of each frame a relay sends first on a connection: its hello, or a data connection's id. */
export const FIRST_FRAME_MAX = new Map([
  [HELLO, 64],
  [DATA, ID_BYTES],
]);
/** The longest payload of each frame a relay sends after its hello (LIST_MAX in pier-relay.c; a reason is a few words). */
export const AFTER_HELLO_MAX = new Map([
  [LIST, 64 * 1024],
  [FAILED, ID_BYTES + 256],
]);
/** Listening sockets a list may name (MAX_LISTED in pier-relay.c). */
export const LIST_ENTRIES_MAX = 512;

/** A TCP socket listening in a pod, as its relay saw it. */
export interface RelayPort {
  port: number;
  /** The address it listens on, as the pod sees it (`0.0.0.0`, `::`, `127.0.0.1`, …). */
  address: string;
  /** The process holding it, where the relay could tell (processes of another user it cannot). */
  pid: number | null;
  /** That process's PIER_SESSION_ID: the session whose terminal, script or agent started it. */
  sessionId: string | null;
  /** That process's name (its `comm`). */
  name: string | null;
}

/** Why an open failed, as the relay says it. */
export interface OpenFailure {
  id: string;
  reason: "refused" | "timeout" | "busy" | "unreachable";
  /** The relay's words for an unreachable port (the system's message). */
  detail: string;
}

export function frame(type: number, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  const bytes = new Uint8Array(HEADER + payload.length);
  bytes[0] = type;
  new DataView(bytes.buffer).setUint32(1, payload.length);
  bytes.set(payload, HEADER);
  return bytes;
}

/** `C`: open a connection to `port` in the pod, answered by a data connection carrying `id` (or an `F`). */
export function openFrame(id: Uint8Array, port: number): Uint8Array {
  const payload = new Uint8Array(ID_BYTES + 2);
  payload.set(id);
  payload[ID_BYTES] = port >> 8;
  payload[ID_BYTES + 1] = port & 0xff;
  return frame(OPEN, payload);
}

export function exitFrame(): Uint8Array {
  return frame(EXIT);
}

/** The version a hello says ("pier-relay 1"), or null for anything that is not a relay's hello. */
export function helloVersion(payload: Uint8Array): number | null {
  const match = /^pier-relay ([1-9][0-9]{0,5})$/.exec(latin1(payload));
  return match ? Number(match[1]) : null;
}

export function idText(id: Uint8Array): string {
  return Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString("hex");
}

const PORT = /^[1-9][0-9]{0,4}$/;
const PID = /^[1-9][0-9]{0,9}$/;
const SESSION = /^[a-z0-9]{1,64}$/;
/** A process name as the relay passes it: printable ASCII but the backslash, at most 16 characters. */
const NAME = /^[\x20-\x5b\x5d-\x7e]{1,16}$/;

/**
 * An `L` payload: a line `port\taddress\tpid\tsession\tname\n` per listening socket (the last
 * three empty where unknown). Null when any of it is not what a relay writes.
 */
export function parsePorts(payload: Uint8Array): RelayPort[] | null {
  const text = latin1(payload);
  if (text === "") return [];
  if (!text.endsWith("\n")) return null;
  const lines = text.slice(0, -1).split("\n");
  if (lines.length > LIST_ENTRIES_MAX) return null;
  const ports: RelayPort[] = [];
  for (const line of lines) {
    const fields = line.split("\t");
    if (fields.length !== 5) return null;
    const [port, address, pid, sessionId, name] = fields as [string, string, string, string, string];
    if (!PORT.test(port) || Number(port) > 65535 || isIP(address) === 0) return null;
    if ((pid !== "" && !PID.test(pid)) || (sessionId !== "" && !SESSION.test(sessionId)) || (name !== "" && !NAME.test(name))) return null;
    ports.push({ port: Number(port), address, pid: pid ? Number(pid) : null, sessionId: sessionId || null, name: name || null });
  }
  return ports;
}

const REASON = /^(?:(refused|timeout|busy)|(unreachable) ([\x20-\x7e]{1,200}))$/;

/** An `F` payload: the open's id, then a reason word and, for an unreachable port, the system's message. */
export function parseFailure(payload: Uint8Array): OpenFailure | null {
  if (payload.length <= ID_BYTES) return null;
  const match = REASON.exec(latin1(payload.subarray(ID_BYTES)));
  if (!match) return null;
  return { id: idText(payload.subarray(0, ID_BYTES)), reason: (match[1] ?? match[2]) as OpenFailure["reason"], detail: match[3] ?? "" };
}

/**
 * Reads the first frame of a connection to a relay socket (a hello or a data connection's id),
 * byte-exact: what follows it is left over for the caller (more frames, or a stream's first bytes).
 */
export class FirstFrame {
  private bytes = new Uint8Array(0);

  /**
   * Adds a chunk: the frame and what came after it once it is whole, null while more is needed,
   * or "refused" for a type that may not come first or a length over its type's.
   */
  push(chunk: Uint8Array): { type: number; payload: Uint8Array; rest: Uint8Array } | null | "refused" {
    const joined = new Uint8Array(this.bytes.length + chunk.length);
    joined.set(this.bytes);
    joined.set(chunk, this.bytes.length);
    this.bytes = joined;
    if (joined.length < HEADER) return null;
    const type = joined[0]!;
    const length = new DataView(joined.buffer).getUint32(1);
    const most = FIRST_FRAME_MAX.get(type);
    if (most === undefined || length > most) return "refused";
    if (joined.length < HEADER + length) return null;
    return { type, payload: joined.subarray(HEADER, HEADER + length), rest: joined.subarray(HEADER + length) };
  }
}

function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
}
