/**
 * How GitHub's REST API answers, apart from what it says: JSON with GitHub's headers, weak ETags
 * and 304s, rate-limit headers and the two rate-limit refusals, error bodies, Link-header pages.
 */
import { createHash } from "node:crypto";

export const DOCS = "https://docs.github.com/rest";
export const RATE_LIMIT = 5000;

/** A JSON answer (no body at all when undefined: a redirect) before ETag, rate-limit and GitHub's other headers are added. */
export interface Answer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** One entry of a 422's `errors`, as GitHub writes them. */
export interface ValidationError {
  resource: "PullRequest" | "IssueComment";
  code: "invalid" | "missing_field" | "custom";
  field?: string;
  message?: string;
}

/** Thrown by handlers to answer with GitHub's error body. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly documentationUrl = DOCS,
    readonly errors?: ValidationError[],
  ) {
    super(message);
  }
}

/** `{message, errors?, documentation_url, status}`: GitHub's error body, status included as a string. */
export function errorAnswer(error: ApiError): Answer {
  const errors = error.errors ? { errors: error.errors } : {};
  return {
    status: error.status,
    body: { message: error.message, ...errors, documentation_url: error.documentationUrl, status: String(error.status) },
  };
}

export interface RateLimitOptions {
  /** "secondary" (the default): 403 with retry-after. "primary": 403 with the quota at 0 until a reset time. */
  kind?: "secondary" | "primary";
  /** retry-after for a secondary limit; seconds until x-ratelimit-reset for a primary one. Default 60. */
  retryAfterSeconds?: number;
}

/** The core quota as GitHub counts it, and the refusals a test has asked for. */
export interface RateLimitState {
  used: number;
  /** When the quota window ends, in epoch seconds. */
  reset: number;
  refusals: Required<RateLimitOptions>[];
}

export function newRateLimitState(): RateLimitState {
  return { used: 0, reset: Math.floor(Date.now() / 1000) + 3600, refusals: [] };
}

function rateHeaders(rate: RateLimitState): Record<string, string> {
  return {
    "x-ratelimit-limit": String(RATE_LIMIT),
    "x-ratelimit-remaining": String(RATE_LIMIT - rate.used),
    "x-ratelimit-reset": String(rate.reset),
    "x-ratelimit-used": String(rate.used),
    "x-ratelimit-resource": "core",
  };
}

/**
 * GitHub's two rate-limit refusals, which Octokit's throttling plugin tells apart by "secondary
 * rate" in the message (then it waits retry-after) or by x-ratelimit-remaining: 0 (then it waits
 * until x-ratelimit-reset).
 */
export function rateLimitAnswer(limit: Required<RateLimitOptions>, userId: number): Answer {
  const id = requestId();
  if (limit.kind === "secondary") {
    return {
      status: 403,
      headers: { "retry-after": String(limit.retryAfterSeconds) },
      body: {
        message: `You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID ${id}.`,
        documentation_url: `${DOCS}/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits`,
        status: "403",
      },
    };
  }
  return {
    status: 403,
    headers: {
      "x-ratelimit-remaining": "0",
      "x-ratelimit-used": String(RATE_LIMIT),
      "x-ratelimit-reset": String(Math.ceil(Date.now() / 1000) + limit.retryAfterSeconds),
    },
    body: {
      message: `API rate limit exceeded for user ID ${userId}. If you reach out to GitHub Support for help, please include the request ID ${id}.`,
      documentation_url: `${DOCS}/overview/rate-limits-for-the-rest-api#about-the-primary-rate-limit`,
      status: "403",
    },
  };
}

/** The HTTP response: GitHub's headers, and for a successful GET an ETag and a 304 when If-None-Match matches it. */
export function respond(request: Request, answer: Answer, rate: RateLimitState): Response {
  const headers: Record<string, string> = {
    "content-type": "application/json; charset=utf-8",
    "x-github-media-type": "github.v3; format=json",
    "x-github-api-version-selected": "2022-11-28",
    "x-github-request-id": requestId(),
    ...answer.headers,
  };
  if (answer.body === undefined) {
    delete headers["content-type"];
    rate.used += 1;
    return new Response(null, { status: answer.status, headers: { ...rateHeaders(rate), ...headers } });
  }
  const text = JSON.stringify(answer.body);
  if (request.method === "GET" && answer.status === 200) {
    // A weak validator of the body: an unchanged answer gets the same one.
    const etag = `W/"${createHash("sha256").update(text).digest("hex")}"`;
    Object.assign(headers, { etag, "cache-control": "private, max-age=60, s-maxage=60", vary: "Accept, Authorization, Cookie, X-GitHub-OTP" });
    if (etagMatches(request.headers.get("if-none-match"), etag)) {
      // A 304 costs nothing against the rate limit, which is the point of sending If-None-Match.
      delete headers["content-type"];
      return new Response(null, { status: 304, headers: { ...rateHeaders(rate), ...headers } });
    }
  }
  // Refused credentials count against another (unauthenticated) quota.
  if (answer.status !== 401) rate.used += 1;
  return new Response(text, { status: answer.status, headers: { ...rateHeaders(rate), ...headers } });
}

/** If-None-Match holds one or more entity tags; the weak comparison it calls for ignores W/. */
function etagMatches(header: string | null, etag: string): boolean {
  if (!header) return false;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, "");
  return header.split(",").some((tag) => tag.trim() === "*" || opaque(tag) === opaque(etag));
}

/**
 * One page of `items` (per_page default 30, at most 100), with GitHub's Link header naming the
 * prev/next/last/first pages when there is more than one. `url` is the list's own address.
 */
export function paged(items: unknown[], query: URLSearchParams, url: string): Answer & { body: unknown[] } {
  const perPage = Math.min(100, Math.max(1, Number(query.get("per_page")) || 30));
  const page = Math.max(1, Number(query.get("page")) || 1);
  const last = Math.max(1, Math.ceil(items.length / perPage));
  const pageUrl = (n: number) => {
    const params = new URLSearchParams(query);
    params.set("page", String(n));
    return `<${url}?${params}>`;
  };
  const links: string[] = [];
  if (page > 1) links.push(`${pageUrl(page - 1)}; rel="prev"`);
  if (page < last) links.push(`${pageUrl(page + 1)}; rel="next"`, `${pageUrl(last)}; rel="last"`);
  if (page > 1) links.push(`${pageUrl(1)}; rel="first"`);
  return {
    status: 200,
    body: items.slice((page - 1) * perPage, page * perPage),
    headers: links.length > 0 ? { link: links.join(", ") } : {},
  };
}

function requestId(): string {
  const hex = () => Math.floor(Math.random() * 0x10000).toString(16).toUpperCase();
  return `${hex()}:${hex()}:${hex()}${hex()}:${hex()}${hex()}`;
}
