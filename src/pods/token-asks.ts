import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";
import { type PodKey, podKeyString } from "../runtime/runtime.ts";

/**
 * How many asks for a token (a gateway key, an MCP header) one pod may make in a minute. A Claude
 * Code process asks for both as it starts, for a key again every five minutes and after a 401, and
 * for a header as it reconnects: a handful a minute for a pod with several sessions, and a hundred
 * processes starting in the same minute would still pass. Only a loop goes past it.
 */
export const TOKEN_ASKS_PER_MINUTE = 120;

/**
 * Counts a pod's asks for tokens, per pod, in windows of a minute (kept in memory: a restart
 * forgives). Asking again hands back the same token (see HeldTokens), so the limit is not what
 * keeps the database small; it keeps a pod in a loop from taking the server's time.
 */
export class TokenAsks {
  private limiter = new RateLimiterMemory({ points: TOKEN_ASKS_PER_MINUTE, duration: 60 });

  /** Counts one ask of the pod: null when it may be answered, else the refusal (429) saying when to ask again. */
  async refusal(key: PodKey): Promise<Response | null> {
    try {
      await this.limiter.consume(podKeyString(key));
      return null;
    } catch (result) {
      if (!(result instanceof RateLimiterRes)) throw result;
      const seconds = Math.max(1, Math.ceil(result.msBeforeNext / 1000));
      return new Response(`This pod asked Pier for more than ${TOKEN_ASKS_PER_MINUTE} tokens in a minute; ask again in ${seconds} s.\n`, {
        status: 429,
        headers: { "retry-after": String(seconds) },
      });
    }
  }
}
