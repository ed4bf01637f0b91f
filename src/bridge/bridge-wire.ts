import { join } from "node:path";

/**
 * The wire between Pier and a pod's bridge (pier-bridge.c, whose header describes it): frames of
 * a type byte, a big-endian 32-bit length and the payload, each after the hello naming its stream
 * by a 32-bit id. Everything the bridge sends is read as a pod's words: each frame's length is
 * bounded by its type before anything is allocated for it, and one that does not parse ends the
 * bridge.
 */

export const HEADER = 5;
export const ID = 4;
export const HELLO = 0x48; /* H */
export const OPEN = 0x4f; /* O */
export const DATA = 0x44; /* D */
export const END = 0x45; /* E */
export const CLOSE = 0x43; /* C */
export const CREDIT = 0x4b; /* K */
export const VERSION_LINE = "pier-bridge 1";

/** What each side may have sent on a stream and not had credited back (WINDOW in pier-bridge.c). */
export const WINDOW = 128 * 1024;
/** Credit is sent back once this much has been passed on, so the sender keeps most of its window. */
export const CREDIT_STEP = WINDOW / 4;
/** The most Pier sends in one data frame (PIER_CHUNK in pier-bridge.c). */
export const PIER_CHUNK = 64 * 1024;
/**
 * Streams one bridge may have open at once (MAX_STREAMS in pier-bridge.c): a pod's holders (one per
 * live session), its relay's connections (128 at most) and its helpers' short requests fit.
 */
export const MAX_STREAMS = 256;

/** The longest payload of each frame a bridge sends after its hello; the bridge's data frames are 16 KiB, 64 KiB is allowed. */
export const BRIDGE_FRAME_MAX = new Map([
  [OPEN, ID + 16],
  [DATA, ID + 64 * 1024],
  [END, ID],
  [CLOSE, ID],
  [CREDIT, ID + 4],
]);
export const HELLO_MAX = 64;

/** The sockets the bridge listens on in the pod, each carried to Pier's own socket of that name. */
export const STREAM_NAMES = ["services", "holder", "relay"] as const;
export type StreamName = (typeof STREAM_NAMES)[number];

/** Where the bridge makes its sockets in the pod: a directory of the pod's own, made by the bridge (as root). */
export const BRIDGE_DIR = "/run/pier";

/** The path in the pod of the bridge's socket of that name. */
export function bridgeSocket(name: StreamName): string {
  return join(BRIDGE_DIR, `${name}.sock`);
}

export function streamFrame(type: number, id: number, payload?: Uint8Array): Uint8Array {
  const length = ID + (payload?.length ?? 0);
  const bytes = new Uint8Array(HEADER + length);
  const view = new DataView(bytes.buffer);
  bytes[0] = type;
  view.setUint32(1, length);
  view.setUint32(HEADER, id);
  if (payload) bytes.set(payload, HEADER + ID);
  return bytes;
}

export function creditFrame(id: number, count: number): Uint8Array {
  const payload = new Uint8Array(4);
  new DataView(payload.buffer).setUint32(0, count);
  return streamFrame(CREDIT, id, payload);
}

export function streamName(bytes: Uint8Array): StreamName | null {
  const text = new TextDecoder().decode(bytes);
  return (STREAM_NAMES as readonly string[]).includes(text) ? (text as StreamName) : null;
}
