import type { Usage } from "../costs/usage.ts";
import { JsonPicker } from "./json-picker.ts";
import { type SseData, SseReader } from "./sse-reader.ts";

/** One model response as the gateway meters it: the model that answered and what it used. */
export interface MeteredResponse {
  model: string;
  usage: Usage;
}

/**
 * Reads the model and usage out of an answer as its bytes pass through the gateway, without
 * holding them back: `push` each chunk as it goes to the client (cut anywhere, even inside a UTF-8
 * character), then `result` once it has ended or been cut off.
 */
export interface UsageReader {
  push(chunk: Uint8Array): void;
  /** What the answer says it used so far, or null when it named no model or no usage. */
  result(): MeteredResponse | null;
  /** The same while the answer still comes, or null while unknown. */
  peek(): MeteredResponse | null;
}

/** What an answer has said so far: its model (or the one the request named) and its usage. */
export class Seen {
  usage: Usage | null = null;

  constructor(public model: string | null = null) {}

  now(): MeteredResponse | null {
    return this.model && this.usage ? { model: this.model, usage: { ...this.usage } } : null;
  }
}

/**
 * Where a service's answers say what they used: which values to pick from a JSON answer and from
 * each event of a streamed one, and what each picked value means for what is seen.
 */
export interface UsageWire {
  /** Paths picked from a whole JSON answer. */
  jsonPaths: string[];
  /** Paths picked from one event's data. */
  eventPaths: string[];
  /** Whether an event of this name can carry the model or usage ("" is an event without a name). */
  carriesUsage(event: string): boolean;
  /** A picked value (its key, and its depth: 1 for a key of the root) goes into what is seen. */
  pick(seen: Seen, key: string | number, value: unknown, depth: number): void;
}

/** The reader for an answer of this content type on this wire, or null for one that is not metered (an HTML error page). */
export function usageReaderFor(wire: UsageWire, contentType: string | null, requestedModel: string | null = null): UsageReader | null {
  const type = contentType?.split(";")[0]?.trim().toLowerCase();
  if (type === "text/event-stream") return new SseUsageReader(wire, new Seen(requestedModel));
  if (type === "application/json") return new JsonUsageReader(wire, new Seen(requestedModel));
  return null;
}

/** A streamed answer: the events that can carry usage are picked as they come; the others pass unread. */
export class SseUsageReader extends SseReader implements UsageReader {
  constructor(
    private wire: UsageWire,
    private seen: Seen,
  ) {
    super();
  }

  protected dataOf(event: string): SseData | null {
    if (!this.wire.carriesUsage(event)) return null;
    return new JsonPicker(this.wire.eventPaths, (key, value, depth) => this.wire.pick(this.seen, key, value, depth));
  }

  result(): MeteredResponse | null {
    this.flush();
    return this.seen.now();
  }

  peek(): MeteredResponse | null {
    return this.seen.now();
  }
}

/** A whole JSON answer (or a JSON array streamed element by element), picked as it comes. */
export class JsonUsageReader implements UsageReader {
  private picker: JsonPicker;

  constructor(
    wire: UsageWire,
    private seen: Seen,
  ) {
    this.picker = new JsonPicker(wire.jsonPaths, (key, value, depth) => wire.pick(seen, key, value, depth));
  }

  push(chunk: Uint8Array): void {
    this.picker.write(chunk);
  }

  result(): MeteredResponse | null {
    return this.seen.now();
  }

  peek(): MeteredResponse | null {
    return this.seen.now();
  }
}
