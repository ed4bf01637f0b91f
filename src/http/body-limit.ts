import type { AnyElysia } from "elysia";
import { parseQuery } from "elysia/parse-query";
import { AppError } from "../infra/errors.ts";
import { readAtMost } from "../infra/read-at-most.ts";

/**
 * How big a request body may be unless its route says otherwise. Every route takes a small JSON
 * body or form (chat messages and terminal input travel over WebSockets, with their own frame
 * limit), so one limit serves all but the few that state their own (see bodyLimit).
 */
export const MAX_BODY_BYTES = 1024 * 1024;

/**
 * Bun's own limit, a backstop for any body read outside the checks below. It sits above every
 * route's limit (and the model gateway's 32 MiB, src/gateway) because Bun refuses a body it
 * declares too long before Pier sees the request, with an empty 413: bodies a little too long
 * (a mistaken paste) should get Pier's sentence.
 */
export const SERVER_BODY_CEILING = 40 * MAX_BODY_BYTES;

export const bodyTooLarge = (limit = MAX_BODY_BYTES) =>
  new AppError(413, "payload_too_large", `Request bodies may be at most ${limit / (1024 * 1024)} MiB.`);

type ParseHook = (context: { request: Request }, contentType: string) => Promise<unknown>;

/** The parse hooks made by bodyLimit: a route whose hooks hold one has stated its own limit. */
const statedLimits = new WeakSet<ParseHook>();

/**
 * A route's own body limit, stated where the route is declared, as Hono's bodyLimit middleware
 * is: `{ parse: bodyLimit(25 * MAX_BODY_BYTES, "text") }`. A body declared longer is refused
 * before any of it is read; one sent without a length (chunked) is read only up to the limit.
 * `as: "text"` hands the body over as it came (a webhook signed as it came), else it is parsed as
 * Elysia would (JSON, a form, else text).
 */
export function bodyLimit(maxBytes: number, as?: "text"): ParseHook {
  const hook: ParseHook = ({ request }, contentType) => readWithin(request, contentType, maxBytes, as);
  statedLimits.add(hook);
  return hook;
}

/**
 * For the app's parse hook: the body of a route that states no limit of its own, bounded by
 * MAX_BODY_BYTES; a route that states one is left to its own hook (which runs after this one).
 */
export function defaultBodyLimit(app: AnyElysia): ParseHook {
  const statesItsOwn = new Map<string, boolean>();
  return async ({ request, route }: { request: Request; route?: string }, contentType) => {
    const key = `${request.method} ${route}`;
    let own = statesItsOwn.get(key);
    if (own === undefined) {
      const hooks = app.routes.find((r) => r.method === request.method && r.path === route)?.hooks.parse;
      own = Array.isArray(hooks) && hooks.some((hook: { fn?: unknown }) => statedLimits.has(hook.fn as ParseHook));
      statesItsOwn.set(key, own);
    }
    return own ? undefined : readWithin(request, contentType, MAX_BODY_BYTES);
  };
}

/**
 * A body declared longer than `maxBytes` is refused before any of it is read. One sent without
 * a length (chunked) is read here, at most `maxBytes` of it, and parsed; bodies with a length
 * within the limit are left to Elysia's own parsers (undefined), or read as text for `as`.
 */
async function readWithin(request: Request, contentType: string, maxBytes: number, as?: "text"): Promise<unknown> {
  if (Number(request.headers.get("content-length") ?? 0) > maxBytes) throw bodyTooLarge(maxBytes);
  if (!request.body) return undefined;
  if (request.headers.has("content-length")) return as === "text" ? request.text() : undefined;
  const bytes = await readAtMost(request.body, maxBytes);
  if (!bytes) throw bodyTooLarge(maxBytes);
  const text = Buffer.from(bytes).toString("utf8");
  if (as === "text") return text;
  if (contentType === "application/json") return JSON.parse(text);
  if (contentType === "application/x-www-form-urlencoded") return parseQuery(text);
  return text;
}
