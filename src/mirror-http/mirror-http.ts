import { basename, dirname } from "node:path";
import { RateLimiterMemory } from "rate-limiter-flexible";
import { type PodKey, podKeyString } from "../runtime/runtime.ts";
import { BodyTooLarge, httpBackend } from "./http-backend.ts";

/** Where repos' mirrors are served: `/git/<repo id>.git/…`. */
export const MIRROR_HTTP_ROOT = "/git/";

/**
 * The most one request's body may hold. A fetch's request lists what it wants and what it has
 * (git sends its haves in rounds of a few hundred lines): kilobytes, a few MiB for a clone with a
 * great many branches.
 */
export const MAX_REQUEST_BYTES = 16 * 1024 * 1024;
/** How long one request may take: a clone of a large repository over a slow link, not an hour. */
export const REQUEST_TIMEOUT_MS = 10 * 60_000;
/** http-backends one pod may have running at once: a fetch is one or two requests at a time. */
export const CONCURRENT_PER_POD = 4;
/** Refused credentials one address may send in a minute before it is refused without a check. */
export const FAILURES_PER_MINUTE = 20;

export interface MirrorHttpDeps {
  /** The pod a credential is for, or null for an unknown or revoked one (see PodCredentials). */
  podOf(credential: string): PodKey | null;
  /** Where the repo's mirror is (a bare repository only the server writes). */
  mirrorPath(repoId: string): string;
}

/** The paths of git's smart HTTP under a repository, and whether each is a push. */
const SMART_PATH = /^\/git\/([a-z0-9]{1,64})\.git\/(info\/refs|git-upload-pack|git-receive-pack)$/;

const TEXT = { "content-type": "text/plain; charset=utf-8" };

/**
 * Each repo's mirror, read-only over git's smart HTTP, for pods that have no bind mount of it (a
 * pod on another Docker engine): `git http-backend` serves upload-pack (protocol v2 too, asked
 * for with the Git-Protocol header); a push is refused. A pod reads its own repo's mirror with
 * its own credential (HTTP Basic, the password; see PodCredentials) and nothing else: no
 * person's cookie or API token is taken here, and another repo's address is answered as if it
 * did not exist, so a credential says nothing of other repos. Refused credentials are counted per
 * address, and an address over its count has every wrong credential refused alike (429) for a
 * while; a pod's right one still works from there, as the login limit never refuses the right
 * password of someone who has not been failing.
 */
export class MirrorHttp {
  private running = new Map<string, number>();
  private failures = new RateLimiterMemory({ points: FAILURES_PER_MINUTE, duration: 60 });

  constructor(private deps: MirrorHttpDeps) {}

  /** Whether a request is for the mirrors' address (taken before Pier's own parsers and limits). */
  static handles(path: string): boolean {
    return path.startsWith(MIRROR_HTTP_ROOT);
  }

  /** Answers one request for a mirror, from `address` (the client's, for the count of refusals). */
  async handle(request: Request, address: string): Promise<Response> {
    const url = new URL(request.url);
    const credential = basicPassword(request.headers.get("authorization"));
    if (credential === null) {
      return new Response("Pier's mirrors are read with a pod's own credential; git asks Pier's credential helper for it.\n", {
        status: 401,
        headers: { ...TEXT, "www-authenticate": 'Basic realm="Pier"' },
      });
    }
    // A pod's own credential is never refused for others' failures (pods on one engine share an
    // address); a wrong one from an address over its count is refused without a word on why.
    const pod = this.deps.podOf(credential);
    if (!pod) {
      const waited = await this.waitOf(address);
      if (waited) return tooMany(waited, "This address sent too many refused credentials");
      await this.failures.penalty(address, 1).catch(() => undefined);
      return new Response("This credential is not a pod's of Pier, or its pod was removed.\n", { status: 403, headers: TEXT });
    }
    const match = SMART_PATH.exec(url.pathname);
    if (!match || match[1] !== pod.repoId) {
      // Another repo's address, one that names none, or a path git never asks: all alike.
      return new Response("There is no repository at this address for this credential.\n", { status: 404, headers: TEXT });
    }
    const service = match[2] === "info/refs" ? url.searchParams.get("service") : match[2];
    if (service === "git-receive-pack") {
      return new Response("Pier's mirror is read-only: push to the repository's own remote.\n", { status: 403, headers: TEXT });
    }
    if (service !== "git-upload-pack" || (match[2] === "info/refs") !== (request.method === "GET") || !["GET", "POST"].includes(request.method)) {
      return new Response("Pier serves git's smart HTTP for fetching only: GET info/refs?service=git-upload-pack, POST git-upload-pack.\n", { status: 400, headers: TEXT });
    }
    if (Number(request.headers.get("content-length") ?? 0) > MAX_REQUEST_BYTES) return tooLarge();
    const key = podKeyString(pod);
    const running = this.running.get(key) ?? 0;
    if (running >= CONCURRENT_PER_POD) return tooMany(5, `This pod has ${CONCURRENT_PER_POD} fetches from Pier under way`);
    this.running.set(key, running + 1);
    const ended = once(() => {
      const left = (this.running.get(key) ?? 1) - 1;
      if (left > 0) this.running.set(key, left);
      else this.running.delete(key);
    });
    const mirror = this.deps.mirrorPath(pod.repoId);
    try {
      return await httpBackend(
        dirname(mirror),
        {
          method: request.method,
          pathInfo: `/${basename(mirror)}/${match[2]}`,
          query: url.search.slice(1),
          contentType: request.headers.get("content-type"),
          contentLength: request.headers.get("content-length"),
          contentEncoding: request.headers.get("content-encoding"),
          gitProtocol: gitProtocolOf(request.headers.get("git-protocol")),
          remoteUser: key,
          remoteAddr: address,
          body: request.method === "POST" ? request.body : null,
        },
        { bodyBytes: MAX_REQUEST_BYTES, timeoutMs: REQUEST_TIMEOUT_MS },
        ended,
      );
    } catch (error) {
      ended();
      if (error instanceof BodyTooLarge) return tooLarge();
      throw error;
    }
  }

  /** Seconds the address waits before its credentials are checked again; 0 when they are checked now. */
  private async waitOf(address: string): Promise<number> {
    const used = await this.failures.get(address);
    return used && used.consumedPoints >= FAILURES_PER_MINUTE ? Math.max(1, Math.ceil(used.msBeforeNext / 1000)) : 0;
  }
}

/** The password of an HTTP Basic Authorization header (the pod's credential), or null without one. */
function basicPassword(header: string | null): string | null {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? "");
  if (!match) return null;
  const decoded = Buffer.from(match[1]!, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  return colon >= 0 ? decoded.slice(colon + 1) : null;
}

/** The Git-Protocol header as git sends it (`version=2`, colon-separated key=value pairs), or null for anything else. */
function gitProtocolOf(header: string | null): string | null {
  return header && /^[A-Za-z0-9=:._-]{1,256}$/.test(header) ? header : null;
}

function tooMany(seconds: number, what: string): Response {
  return new Response(`${what}; try again in ${seconds} s.\n`, { status: 429, headers: { ...TEXT, "retry-after": String(seconds) } });
}

function tooLarge(): Response {
  return new Response(`A request to Pier's mirror may carry at most ${MAX_REQUEST_BYTES / (1024 * 1024)} MiB.\n`, { status: 413, headers: { ...TEXT, connection: "close" } });
}

function once(run: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    run();
  };
}
