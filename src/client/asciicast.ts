// Reading an asciicast v2 recording (https://docs.asciinema.org/manual/asciicast/v2/) and
// searching the text it printed.

export type CastEvent =
  | { time: number; type: "output"; text: string }
  | { time: number; type: "resize"; cols: number; rows: number };

export interface Cast {
  cols: number;
  rows: number;
  events: CastEvent[];
  /** Seconds, up to the last event. */
  duration: number;
}

/** Parses a cast: a JSON header line, then one JSON array per event. Lines it cannot read are skipped. */
export function parseCast(text: string): Cast {
  const [headerLine = "", ...lines] = text.split("\n");
  const header = JSON.parse(headerLine) as { width?: unknown; height?: unknown };
  const events = lines.map(parseEvent).filter((event) => event !== null);
  return {
    cols: positiveInteger(header.width) ?? 80,
    rows: positiveInteger(header.height) ?? 24,
    events,
    duration: events.at(-1)?.time ?? 0,
  };
}

function parseEvent(line: string): CastEvent | null {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    // An empty line, or the last line of a recording cut off mid-write.
    return null;
  }
  if (!Array.isArray(value) || typeof value[0] !== "number" || typeof value[2] !== "string") return null;
  const [time, code, data] = value as [number, unknown, string];
  if (code === "o") return { time, type: "output", text: data };
  const size = /^(\d+)x(\d+)$/.exec(data);
  if (code === "r" && size) return { time, type: "resize", cols: Number(size[1]), rows: Number(size[2]) };
  // Input ("i") and marker ("m") events do not change what the screen shows.
  return null;
}

function positiveInteger(value: unknown): number | undefined {
  return typeof value === "number" && Number.isInteger(value) && value > 0 ? value : undefined;
}

/** The plain text a recording printed, and when each output event's part of it appeared. */
export interface Transcript {
  text: string;
  /** Offset in `text` where output event i begins; ascending. */
  starts: number[];
  times: number[];
}

/**
 * Escape sequences: CSI (colours, cursor moves), OSC (titles, hyperlinks), DCS/SOS/PM/APC strings,
 * and the short two- or three-character ones.
 */
const ESCAPE = /\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[PX^_][^\x1b]*\x1b\\|[ -/]*[0-~])/g;
/** An escape sequence cut off at the end of an event, to be completed by the next one. */
const UNFINISHED_ESCAPE = /\x1b(?:\[[0-?]*[ -/]*|\][^\x07\x1b]*\x1b?|[PX^_][^\x1b]*\x1b?|[ -/]*)$/;
/** Control characters other than tab and newline (carriage returns, bells, backspaces). */
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f]/g;

export function transcriptOf(events: CastEvent[]): Transcript {
  const transcript: Transcript = { text: "", starts: [], times: [] };
  let carried = "";
  for (const event of events) {
    if (event.type !== "output") continue;
    let raw = carried + event.text;
    const unfinished = UNFINISHED_ESCAPE.exec(raw);
    carried = unfinished ? unfinished[0] : "";
    if (unfinished) raw = raw.slice(0, unfinished.index);
    transcript.starts.push(transcript.text.length);
    transcript.times.push(event.time);
    transcript.text += raw.replace(ESCAPE, "").replace(CONTROL, "");
  }
  return transcript;
}

export interface Match {
  /** When the match was complete on screen. */
  time: number;
  /** The line of output the match is on. */
  line: string;
}

/** Case-insensitive matches of `query` in the transcript, at most `limit` of them. */
export function searchTranscript(transcript: Transcript, query: string, limit: number): Match[] {
  if (!query) return [];
  const pattern = new RegExp(query.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"), "gi");
  const matches: Match[] = [];
  for (const found of transcript.text.matchAll(pattern)) {
    if (matches.length === limit) break;
    const end = found.index + found[0].length - 1;
    matches.push({ time: timeAt(transcript, end), line: lineAround(transcript.text, found.index) });
  }
  return matches;
}

/** The time of the output event that printed the character at `offset` (a binary search). */
function timeAt(transcript: Transcript, offset: number): number {
  let low = 0;
  let high = transcript.starts.length - 1;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if ((transcript.starts[middle] ?? 0) <= offset) low = middle;
    else high = middle - 1;
  }
  return transcript.times[low] ?? 0;
}

/** The line around `offset`, clipped to some characters either side (output can have very long lines). */
function lineAround(text: string, offset: number): string {
  const lineStart = text.lastIndexOf("\n", offset) + 1;
  const newline = text.indexOf("\n", offset);
  const lineEnd = newline === -1 ? text.length : newline;
  const start = Math.max(lineStart, offset - 40);
  const end = Math.min(lineEnd, offset + 80);
  return `${start > lineStart ? "…" : ""}${text.slice(start, end).trim()}${end < lineEnd ? "…" : ""}`;
}
