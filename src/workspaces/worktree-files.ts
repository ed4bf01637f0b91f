import { type PodShell, expectSuccess, podScript, runPodScript } from "./pod-script.ts";

const RESOLVE = podScript("resolve.sh");
const READ = RESOLVE + podScript("read-file.sh");
const WRITE = RESOLVE + podScript("write-file.sh");
const REPLACE = RESOLVE + podScript("replace-file.sh");
const LIST = podScript("list-files.sh");
const INSTRUCTIONS = podScript("instructions.sh");
const TRACKED = podScript("tracked.sh");

const FILE_TIMEOUT_MS = 30_000;
/** A listing stops after this many bytes of names. */
const LIST_BYTES = 8 * 1024 * 1024;

export interface ReadResult {
  /** The file's whole size; `content` holds at most the bytes asked for. */
  size: number;
  content: string;
  sha256: string | null;
}

/**
 * A session's worktree as its pod sees it: every read and write runs in the pod, as the pod
 * user, so a symlink, a swapped directory or a FIFO there can only ever lead somewhere inside the
 * pod, and what comes back to the server is bounded.
 */
export class WorktreeFiles {
  constructor(
    private shell: PodShell,
    readonly worktree: string,
  ) {}

  /** At most `maxBytes` of the file (and its sha256 when asked); a refusal names what is wrong. */
  async read(path: string, maxBytes: number, withHash = false): Promise<ReadResult> {
    const result = await runPodScript(this.shell, READ, [this.worktree, path, String(maxBytes), withHash ? "1" : "0"], {
      timeoutMs: FILE_TIMEOUT_MS,
      maxOutputBytes: maxBytes + 1024,
    });
    const out = expectSuccess(result, `Reading ${path}`);
    const sizeEnd = out.indexOf("\n");
    const hashEnd = withHash ? out.indexOf("\n", sizeEnd + 1) : sizeEnd;
    return {
      size: Number(out.slice(0, sizeEnd)),
      sha256: withHash ? out.slice(sizeEnd + 1, hashEnd) : null,
      content: out.slice(hashEnd + 1),
    };
  }

  /** Writes the file; `before` is what it held (null when it was new or too big to show). */
  async write(path: string, content: string, maxBefore: number): Promise<{ created: boolean; before: string | null }> {
    const result = await runPodScript(this.shell, WRITE, [this.worktree, path, String(maxBefore)], {
      stdin: content,
      timeoutMs: FILE_TIMEOUT_MS,
      maxOutputBytes: maxBefore * 2 + 1024,
    });
    const [status = "", before = ""] = expectSuccess(result, `Writing ${path}`).split("\n");
    if (status === "created") return { created: true, before: null };
    const size = Number(status.split(" ")[1]);
    return { created: false, before: size <= maxBefore ? Buffer.from(before, "base64").toString("utf8") : null };
  }

  /** Replaces the file's content if it still has the sha256 it had when read. */
  async replace(path: string, expectedSha256: string, content: string): Promise<void> {
    const result = await runPodScript(this.shell, REPLACE, [this.worktree, path, expectedSha256], { stdin: content, timeoutMs: FILE_TIMEOUT_MS });
    expectSuccess(result, `Writing ${path}`);
  }

  /** Every file of the worktree (without .git), relative to it; `truncated` when the listing was cut. */
  async list(): Promise<{ paths: string[]; truncated: boolean }> {
    const result = await runPodScript(this.shell, LIST, [this.worktree, String(LIST_BYTES)], { timeoutMs: 60_000, maxOutputBytes: LIST_BYTES + 1024 });
    const names = expectSuccess(result, "Listing files").split("\0");
    const truncated = Buffer.byteLength(names.join("\0")) >= LIST_BYTES;
    // The last name of a cut listing may be cut too.
    if (truncated) names.pop();
    return { paths: names.filter(Boolean).map((name) => name.replace(/^\.\//, "")), truncated };
  }

  /** Whether the worktree's git tracks the path: the repository's own file, not one Pier or the session wrote. */
  async tracked(path: string): Promise<boolean> {
    const result = await runPodScript(this.shell, TRACKED, [this.worktree, path], { timeoutMs: FILE_TIMEOUT_MS, maxOutputBytes: 64 });
    return expectSuccess(result, `Looking for ${path} in git`).trim() === "yes";
  }

  /** The named instruction files that are regular files inside the worktree, at most `maxBytes` each. */
  async instructions(names: string[], maxBytes: number): Promise<Array<{ name: string; text: string }>> {
    const result = await runPodScript(this.shell, INSTRUCTIONS, [this.worktree, String(maxBytes), ...names], {
      timeoutMs: 10_000,
      maxOutputBytes: names.length * (maxBytes * 2 + 16),
    });
    if (result.exitCode !== 0 || result.timedOut) return [];
    const lines = result.stdout.split("\n");
    return names
      .map((name, i) => ({ name, text: Buffer.from(lines[i] ?? "", "base64").toString("utf8") }))
      .filter((file) => file.text.length > 0);
  }
}
