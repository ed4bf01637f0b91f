import { RequestError } from "octokit";
import type { GitHub } from "./client.ts";

/** How much of a log's end is kept: enough for a test runner's failure and summary, small enough for a message. */
export const LOG_TAIL_LINES = 60;
const LOG_TAIL_BYTES = 32 * 1024;
const LOG_TIMEOUT_MS = 20_000;

/**
 * The last lines of a GitHub Actions job's log (for Actions, a check run's id is its job's id), or
 * null when it has none to give (not an Actions job, logs expired or not written yet). GitHub
 * answers with a one-minute signed address on its log storage; the log is read from there without
 * the token, streamed so only its end is kept, however long it is.
 */
export async function jobLogTail(github: GitHub, token: string, fullName: string, jobId: number): Promise<string | null> {
  const [owner, repo] = fullName.split("/") as [string, string];
  let location: string | null;
  try {
    location = await github.redirectTarget(token, "GET /repos/{owner}/{repo}/actions/jobs/{job_id}/logs", { owner, repo, job_id: jobId });
  } catch (error) {
    if (error instanceof RequestError && (error.status === 404 || error.status === 410)) return null;
    throw error;
  }
  if (!location || !/^https?:$/.test(new URL(location).protocol)) return null;
  const response = await fetch(location, { signal: AbortSignal.timeout(LOG_TIMEOUT_MS) });
  if (!response.ok || !response.body) return null;
  const { text, cut } = await lastBytes(response.body, LOG_TAIL_BYTES);
  return readableTail(text, cut);
}

/** The stream's last `max` bytes as text, and whether anything before them was dropped. */
async function lastBytes(stream: ReadableStream<Uint8Array>, max: number): Promise<{ text: string; cut: boolean }> {
  const chunks: Uint8Array[] = [];
  let kept = 0;
  let cut = false;
  const reader = stream.getReader();
  for (;;) {
    const { done, value: chunk } = await reader.read();
    if (done) break;
    chunks.push(chunk);
    kept += chunk.length;
    while (chunks.length > 1 && kept - chunks[0]!.length >= max) {
      kept -= chunks.shift()!.length;
      cut = true;
    }
  }
  const joined = Buffer.concat(chunks);
  if (joined.length > max) cut = true;
  return { text: new TextDecoder().decode(joined.subarray(Math.max(0, joined.length - max))), cut };
}

/**
 * GitHub stamps each line with its time and keeps the runner's colours; neither helps to read a
 * failure. A line cut by the byte limit is dropped whole.
 */
function readableTail(text: string, cut: boolean): string {
  const lines = text
    .replace(/\r\n?/g, "\n")
    .split("\n")
    .map((line) => line.replace(/^\uFEFF?\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z ?/, "").replace(/\x1b\[[0-9;]*[A-Za-z]/g, ""));
  if (cut) lines.shift();
  while (lines.length > 0 && lines.at(-1)!.trim() === "") lines.pop();
  return lines.slice(-LOG_TAIL_LINES).join("\n");
}
