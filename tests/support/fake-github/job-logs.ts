/**
 * GitHub Actions job logs as GitHub serves them: the API answers `GET /actions/jobs/{id}/logs`
 * with a 302 to a signed address on its log storage, good for one minute and needing no token
 * (the signature is the credential), which answers the log as plain text. For GitHub Actions a
 * check run's id is its job's id, which is how a caller finds the log of a failing check.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import type { CheckRun, Repo, Site } from "./state.ts";

/** GitHub's own figure: the address expires after one minute. */
const LINK_LIFETIME_MS = 60_000;
/** Where the fake keeps logs on its web host, in the shape of GitHub's results storage. */
export const LOG_STORAGE_PREFIX = "/actions-results/";

/** A log as GitHub stores it: each line stamped with its time, to the 100 ns. */
export function stampLog(text: string, at = new Date()): string {
  const stamp = at.toISOString().replace(/Z$/, "0000Z");
  return text
    .split("\n")
    .map((line) => `${stamp} ${line}`)
    .join("\n");
}

export class JobLogStore {
  /** Signs the links; made fresh for each fake, so links from another run are refused. */
  private key = crypto.getRandomValues(new Uint8Array(32));

  constructor(private site: Site) {}

  /** The signed, short-lived address of a job's log. */
  link(repo: Repo, run: CheckRun, now = Date.now()): string {
    const path = `${LOG_STORAGE_PREFIX}${repo.id}/${run.id}/job-logs.txt`;
    const expires = String(now + LINK_LIFETIME_MS);
    return `${this.site.url}${path}?se=${expires}&sig=${this.sign(path, expires)}`;
  }

  /** Answers a request for a log link: the text, or storage's refusal of a bad or expired signature. */
  serve(requestUrl: URL, findRun: (repoId: number, runId: number) => CheckRun | undefined): Response {
    const match = /^\/actions-results\/(\d+)\/(\d+)\/job-logs\.txt$/.exec(requestUrl.pathname);
    const expires = requestUrl.searchParams.get("se") ?? "";
    const signature = requestUrl.searchParams.get("sig") ?? "";
    const expected = Buffer.from(this.sign(requestUrl.pathname, expires));
    const given = Buffer.from(signature);
    if (!match || given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return new Response("Signature did not match.", { status: 403 });
    }
    if (Number(expires) < Date.now()) return new Response("Signed expiry time has passed.", { status: 403 });
    const run = findRun(Number(match[1]), Number(match[2]));
    if (!run?.log) return new Response("The specified blob does not exist.", { status: 404 });
    return new Response(run.log, { headers: { "content-type": "text/plain; charset=utf-8" } });
  }

  private sign(path: string, expires: string): string {
    return createHmac("sha256", this.key).update(`${path}\n${expires}`).digest("base64url");
  }
}
