import Anthropic from "@anthropic-ai/sdk";

/** Tries for one model request when the service is busy, failing or cut off. */
export const MODEL_ATTEMPTS = 4;
/**
 * The longest wait a `retry-after` is honoured for: a service that asks for longer is asked
 * again then anyway, so a turn never sits silent for many minutes.
 */
const MAX_RETRY_AFTER_MS = 60_000;
/** Error types the API sends in an SSE `error` event mid-stream (no HTTP status then). */
const RETRYABLE_TYPES = new Set(["overloaded_error", "api_error", "rate_limit_error"]);

/** What went wrong with a model request, as the person is told it. */
export interface ModelFailure {
  /** The HTTP status, when the service answered with one. */
  status: number | undefined;
  /** Whether trying again may help: busy, overloaded, a server error, or a stream cut off. */
  retryable: boolean;
  /** "The model service is busy (429)": what the chat says while it waits. */
  reason: string;
  /** The service's own sentence from its error body, when it gave one. */
  said: string | null;
  /** How long the service asked to be left alone (retry-after), in milliseconds. */
  retryAfterMs: number | null;
}

/**
 * Reads a failed request. Pier retries itself (the SDK's own retries are off) so the person sees
 * each wait: the SDK would honour retry-after too, but silently.
 */
export function modelFailure(error: unknown): ModelFailure {
  if (error instanceof Anthropic.APIConnectionError) {
    return { status: undefined, retryable: true, reason: "The model service could not be reached or the connection dropped", said: null, retryAfterMs: null };
  }
  if (error instanceof Anthropic.APIError) {
    const { status } = error;
    const said = error.apiMessage ?? null;
    if (status === undefined) {
      // An `error` event in the middle of a streamed answer: the stream stopped there.
      const retryable = error.type !== null && RETRYABLE_TYPES.has(error.type);
      return { status, retryable, reason: `The model service stopped mid-answer (${error.type ?? "error"})`, said, retryAfterMs: null };
    }
    const retryable = status === 429 || status === 529 || status >= 500;
    return { status, retryable, reason: busyReason(status), said, retryAfterMs: retryAfterMs(error.headers) };
  }
  // The SDK's own complaint about a stream that ended before its message did.
  if (error instanceof Anthropic.AnthropicError) {
    return { status: undefined, retryable: true, reason: "The model service's answer was cut off", said: null, retryAfterMs: null };
  }
  return { status: undefined, retryable: false, reason: "The model request failed", said: null, retryAfterMs: null };
}

/** The wait before try `attempt + 1`: the service's retry-after, else doubling from `firstDelayMs`. */
export function retryDelayMs(failure: ModelFailure, attempt: number, firstDelayMs: number): number {
  if (failure.retryAfterMs !== null) return Math.min(failure.retryAfterMs, MAX_RETRY_AFTER_MS);
  return firstDelayMs * 2 ** (attempt - 1);
}

/** The sentence that ends a turn whose request failed for good: the service's own words, then what is kept. */
export function finalMessage(failure: ModelFailure, attempts: number, detail: string): string {
  const words = failure.said ?? detail.slice(0, 300);
  const tries = failure.retryable ? ` after ${attempts} tries` : "";
  return `${failure.reason}${tries}: “${words}” Your message is kept; send another to try again.`;
}

/** "The model service is busy (429)": the chat's words while a request answered with `status` waits to be tried again. */
export function busyReason(status: number): string {
  if (status === 429) return "The model service is busy (429)";
  if (status === 529) return "The model service is overloaded (529)";
  return `The model service failed (${status})`;
}

/** retry-after in seconds or as an HTTP date, and the API's retry-after-ms, as milliseconds. */
function retryAfterMs(headers: Headers | undefined): number | null {
  const ms = Number(headers?.get("retry-after-ms") ?? Number.NaN);
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const value = headers?.get("retry-after");
  if (!value) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - Date.now());
}
