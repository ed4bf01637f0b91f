import type { Usage } from "../costs/usage.ts";

/** One model response as the gateway meters it: the model that answered and what it used. */
export interface MeteredResponse {
  model: string;
  usage: Usage;
}

/** The usage fields of a Messages API answer (message_start's message.usage, message_delta's usage, a JSON answer's usage). */
interface WireUsage {
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
}

/** Longest SSE line kept while it comes in; usage events are small, a longer line cannot be one. */
const MAX_LINE_CHARS = 1024 * 1024;
/** Most of a JSON answer kept to read its usage; a longer answer passes through unmetered. */
const MAX_JSON_BYTES = 16 * 1024 * 1024;

/**
 * Reads the model and usage out of a Messages API answer as its bytes pass through the gateway,
 * without holding them back: `push` each chunk as it goes to the client (cut anywhere, even inside
 * a UTF-8 character), then `result` once it has ended or been cut off.
 */
export interface UsageReader {
  push(chunk: Uint8Array): void;
  /** What the answer says it used so far, or null when it named no model or no usage. */
  result(): MeteredResponse | null;
  /** The same while the answer still comes (nothing held back is read yet), or null while unknown. */
  peek(): MeteredResponse | null;
}

export function usageReaderFor(contentType: string | null): UsageReader | null {
  const type = contentType?.split(";")[0]?.trim().toLowerCase();
  if (type === "text/event-stream") return new SseUsageReader();
  if (type === "application/json") return new JsonUsageReader();
  return null;
}

/**
 * A streamed answer: `message_start` names the model and the input counts, `message_delta`
 * carries the final output count (and, from some models, the input counts again). Only those two
 * events are parsed; every other line is looked at just enough to skip it.
 */
export class SseUsageReader implements UsageReader {
  private decoder = new TextDecoder();
  private line = "";
  /** A line too long to be a usage event: the rest of it is skipped. */
  private skipping = false;
  /** The last text ended with \r: a \n first in the next is the same line end. */
  private afterCr = false;
  private event = "";
  private data: string[] = [];
  private model: string | null = null;
  private usage: Usage | null = null;

  push(chunk: Uint8Array): void {
    this.feed(this.decoder.decode(chunk, { stream: true }));
  }

  result(): MeteredResponse | null {
    this.feed(this.decoder.decode());
    return this.peek();
  }

  peek(): MeteredResponse | null {
    return this.model && this.usage ? { model: this.model, usage: { ...this.usage } } : null;
  }

  private feed(text: string): void {
    let start = this.afterCr && text.startsWith("\n") ? 1 : 0;
    if (text !== "") this.afterCr = text.endsWith("\r");
    for (;;) {
      const end = nextLineEnd(text, start);
      if (end === -1) break;
      this.endLine(this.line + text.slice(start, end));
      this.line = "";
      // \r\n is one line end; a \r alone is one too (SSE allows all three).
      start = text[end] === "\r" && text[end + 1] === "\n" ? end + 2 : end + 1;
    }
    if (this.skipping) return;
    this.line += text.slice(start);
    if (this.line.length > MAX_LINE_CHARS) {
      this.line = "";
      this.skipping = true;
    }
  }

  private endLine(line: string): void {
    if (this.skipping) {
      this.skipping = false;
      return;
    }
    if (line === "") return this.dispatch();
    if (line.startsWith("event:")) this.event = line.slice(6).trim();
    else if (line.startsWith("data:")) {
      // Data of events that cannot carry usage is not kept at all.
      if (this.event === "" || this.event === "message_start" || this.event === "message_delta") this.data.push(line.slice(line[5] === " " ? 6 : 5));
    }
  }

  private dispatch(): void {
    const data = this.data.join("\n");
    this.event = "";
    this.data = [];
    if (!data.includes('"message_')) return;
    let parsed: { type?: string; message?: { model?: unknown; usage?: WireUsage }; usage?: WireUsage };
    try {
      parsed = JSON.parse(data);
    } catch {
      return;
    }
    if (parsed.type === "message_start" && parsed.message) {
      if (typeof parsed.message.model === "string") this.model = parsed.message.model;
      if (parsed.message.usage) this.usage = mergeUsage(null, parsed.message.usage);
    } else if (parsed.type === "message_delta" && parsed.usage) {
      this.usage = mergeUsage(this.usage, parsed.usage);
    }
  }
}

/** A whole JSON answer (stream: false): kept up to MAX_JSON_BYTES, read at the end. */
export class JsonUsageReader implements UsageReader {
  private chunks: Uint8Array[] = [];
  private size = 0;

  push(chunk: Uint8Array): void {
    this.size += chunk.byteLength;
    if (this.size <= MAX_JSON_BYTES) this.chunks.push(chunk.slice());
    else this.chunks = [];
  }

  /** A JSON answer's usage comes only with its end. */
  peek(): MeteredResponse | null {
    return null;
  }

  result(): MeteredResponse | null {
    if (this.size > MAX_JSON_BYTES || this.chunks.length === 0) return null;
    try {
      const answer = JSON.parse(Buffer.concat(this.chunks).toString("utf8")) as { model?: unknown; usage?: WireUsage };
      return typeof answer.model === "string" && answer.usage ? { model: answer.model, usage: mergeUsage(null, answer.usage) } : null;
    } catch {
      return null;
    }
  }
}

function nextLineEnd(text: string, from: number): number {
  const lf = text.indexOf("\n", from);
  const cr = text.indexOf("\r", from);
  if (cr === -1) return lf;
  if (lf === -1) return cr;
  return Math.min(cr, lf);
}

/** The counts a later event gives replace the earlier ones (they are totals, not increments). */
function mergeUsage(before: Usage | null, wire: WireUsage): Usage {
  const pick = (value: number | null | undefined, fallback: number) => (typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : fallback);
  return {
    inputTokens: pick(wire.input_tokens, before?.inputTokens ?? 0),
    outputTokens: pick(wire.output_tokens, before?.outputTokens ?? 0),
    cacheWriteTokens: pick(wire.cache_creation_input_tokens, before?.cacheWriteTokens ?? 0),
    cacheReadTokens: pick(wire.cache_read_input_tokens, before?.cacheReadTokens ?? 0),
  };
}
