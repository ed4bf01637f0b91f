import { parseQuery } from "elysia/parse-query";
import { AppError } from "../infra/errors.ts";
import { readAtMost } from "../infra/read-at-most.ts";

/**
 * How big a request body may be. Every route takes a small JSON body or form (chat messages and
 * terminal input travel over WebSockets, with their own frame limit), so one limit serves all
 * but the routes named below.
 */
export const MAX_BODY_BYTES = 1024 * 1024;

/** Routes that take more, and how much: GitHub sends webhook payloads of up to 25 MB. */
const LARGER_BODIES: Record<string, number> = {
  "/api/github/webhook": 25 * MAX_BODY_BYTES,
};

/** Routes whose body is read as it came (text), because it is signed as it came. */
const RAW_BODIES = new Set(["/api/github/webhook"]);

/**
 * Bun's own limit, a backstop for any body read outside the checks below. It sits above every
 * route's limit (and the model gateway's 32 MiB, src/gateway) because Bun refuses a body it
 * declares too long before Pier sees the request, with an empty 413: bodies a little too long
 * (a mistaken paste) should get Pier's sentence.
 */
export const SERVER_BODY_CEILING = 40 * MAX_BODY_BYTES;

export function bodyLimit(request: Request): number {
  return LARGER_BODIES[new URL(request.url).pathname] ?? MAX_BODY_BYTES;
}

export const bodyTooLarge = (limit = MAX_BODY_BYTES) =>
  new AppError(413, "payload_too_large", `Request bodies may be at most ${limit / (1024 * 1024)} MiB.`);

/** For the request hook: a body that declares itself too long is refused before any of it is read. */
export function declaresTooLargeBody(request: Request): boolean {
  return Number(request.headers.get("content-length") ?? 0) > bodyLimit(request);
}

/**
 * For the parse hook: a body sent without Content-Length (chunked) is read here, at most
 * MAX_BODY_BYTES of it, and parsed as Elysia would (JSON, a form, else text). Bodies with a
 * length were checked in the request hook; undefined leaves them to Elysia's own parsers.
 */
export async function parseUndeclaredBody(request: Request, contentType: string): Promise<unknown> {
  if (!request.body || request.headers.has("content-length")) return undefined;
  const limit = bodyLimit(request);
  const bytes = await readAtMost(request.body, limit);
  if (!bytes) throw bodyTooLarge(limit);
  const text = Buffer.from(bytes).toString("utf8");
  if (RAW_BODIES.has(new URL(request.url).pathname)) return text;
  if (contentType === "application/json") return JSON.parse(text);
  if (contentType === "application/x-www-form-urlencoded") return parseQuery(text);
  return text;
}
