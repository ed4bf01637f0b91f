import { Octokit, RequestError } from "octokit";

/** An answer to a conditional request: unchanged since the ETag given, or the new data and its ETag. */
export type Conditional<T> = { changed: false } | { changed: true; data: T; etag: string | null };

/** How long one request may take before it is given up. */
const REQUEST_TIMEOUT_MS = 20_000;

export interface RateLimitState {
  /** When GitHub said requests may be made again (epoch milliseconds). */
  until: number;
  message: string;
}

/**
 * The one door to GitHub's REST API: Octokit with its retry and throttling plugins, the base URL
 * from GITHUB_API_URL (so GitHub Enterprise works), one client per token, and conditional
 * requests (If-None-Match), so an unchanged answer is a 304 that costs nothing of the rate limit.
 * When GitHub limits the rate, the throttling plugin waits as GitHub asks and tries once more;
 * the limit is remembered for pages to show. Tokens are never logged.
 */
export class GitHub {
  private clients = new Map<string, Octokit>();
  rateLimit: RateLimitState | null = null;

  constructor(private apiUrl: string) {}

  /** GET a route with the ETag of the last answer; a 304 comes back as unchanged. */
  async get<T>(token: string, route: string, params: Record<string, unknown>, etag: string | null): Promise<Conditional<T>> {
    try {
      const response = await this.client(token).request(route, { ...params, headers: etag ? { "if-none-match": etag } : {} });
      return { changed: true, data: response.data as T, etag: (response.headers.etag as string | undefined) ?? null };
    } catch (error) {
      if (error instanceof RequestError && error.status === 304) return { changed: false };
      throw error;
    }
  }

  /** Any other request (creating a pull request, say). */
  async request<T>(token: string, route: string, params: Record<string, unknown>): Promise<T> {
    return (await this.client(token).request(route, params)).data as T;
  }

  /**
   * A request GitHub's refusal of which is final (a merge refused for a moved head or a conflict):
   * not retried, so its sentence comes back at once.
   */
  async requestOnce<T>(token: string, route: string, params: Record<string, unknown>): Promise<T> {
    return this.request<T>(token, route, { ...params, request: { retries: 0 } });
  }

  /**
   * The address a redirecting route points at (a job's log, say), without following it: what is
   * there is fetched without the token, which must not travel to another host.
   */
  async redirectTarget(token: string, route: string, params: Record<string, unknown>): Promise<string | null> {
    const response = await this.client(token).request(route, { ...params, request: { redirect: "manual" } });
    const location = response.headers.location;
    return response.status >= 300 && response.status < 400 && typeof location === "string" ? location : null;
  }

  private client(token: string): Octokit {
    let client = this.clients.get(token);
    if (!client) {
      const remember = (retryAfter: number, options: { method: string; url: string; request: { retryCount: number } }, kind: string) => {
        this.rateLimit = { until: Date.now() + retryAfter * 1000, message: `GitHub limited the rate of requests (${kind}); Pier waits ${retryAfter} s and goes on.` };
        console.warn(`[pier] github ${kind} rate limit on ${options.method} ${options.url}; waiting ${retryAfter} s`);
        // Once: a second refusal ends this request, and the next poll tries again.
        return options.request.retryCount === 0;
      };
      client = new Octokit({
        auth: token,
        baseUrl: this.apiUrl.replace(/\/+$/, ""),
        userAgent: "pier",
        request: { fetch: (url: string, init: RequestInit) => fetch(url, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) }) },
        throttle: {
          onRateLimit: (retryAfter: number, options: Parameters<typeof remember>[1]) => remember(retryAfter, options, "primary"),
          onSecondaryRateLimit: (retryAfter: number, options: Parameters<typeof remember>[1]) => remember(retryAfter, options, "secondary"),
        },
        log: { debug: () => {}, info: () => {}, warn: (message: string) => console.warn(`[pier] github: ${message}`), error: (message: string) => console.error(`[pier] github: ${message}`) },
      });
      this.clients.set(token, client);
    }
    return client;
  }

  /** A successful answer after a limit: the limit is over. */
  cleared(): void {
    if (this.rateLimit && this.rateLimit.until <= Date.now()) this.rateLimit = null;
  }
}

/** GitHub's own sentence for a refused request (a 422's first error message when it has one). */
export function githubMessage(error: unknown): string {
  if (error instanceof RequestError) {
    const body = error.response?.data as { message?: string; errors?: Array<{ message?: string } | string> } | undefined;
    const first = body?.errors?.[0];
    const detail = typeof first === "string" ? first : first?.message;
    return detail ?? body?.message ?? error.message;
  }
  return error instanceof Error ? error.message : String(error);
}
