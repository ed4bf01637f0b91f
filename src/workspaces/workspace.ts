import { tracePodMarks, tracing } from "../observability/start-trace.ts";
import { readQuotedPath } from "./git-quoted-path.ts";
import { type PodShell, expectSuccess, forPerson, podScript, readFields, runPodScript } from "./pod-script.ts";
import { pushFailure } from "./push-failure.ts";

/** Everything about one person's workspace of a repo, as paths their pod and the server share. */
export interface WorkspacePaths {
  clone: string;
  mirror: string;
  /** Pier's credential helper, set in the clone's config so `git push` asks Pier for the token. */
  credentialHelper: string;
}

export interface PrepareInput {
  url: string;
  worktree: string;
  branch: string;
  /** Pier made the branch for this session: it may be created off the base. */
  createdBranch: boolean;
  /** e.g. origin/main */
  baseRef: string;
  /** Where the base pointed when the worktree was first made, if it ever was. */
  baseSha: string | null;
  identity: { name: string; email: string };
  /** A clone from before pods were per person, whose branches of this person's sessions are brought over once. */
  legacy?: { clone: string; branches: string[] };
  /** Pier's own files for the worktree (see SessionFile). */
  files: SessionFile[];
  /**
   * Settles once the mirror is fetched. The script starts in the pod at once and waits for it
   * there, so its start overlaps the fetch; it touches nothing before, and nothing at all if the
   * fetch failed (prepare then fails with the fetch's error).
   */
  mirrorFetched: Promise<unknown>;
  /**
   * When Pier has not learned this pod yet: the directory of its copy of Claude Code there, and the
   * same exec also says what claude-code-probe.sh would (one exec fewer; see ClaudeCodeSupply.offerFacts).
   */
  podFactsFor?: string | null;
}

/**
 * One of Pier's own files in a session's worktree: `.mcp.json` (Pier's MCP endpoint and the
 * configured MCP servers), `.claude/settings.local.json` (Claude Code through Pier's model
 * gateway) or a skill's `.claude/skills/<name>/SKILL.md`. They never reach git;
 * a file the repository tracks itself wins (scripts/session-files.sh).
 */
export interface SessionFile {
  path: string;
  content: string;
}

/** The only paths Pier writes into a worktree (the script checks them again in the pod). */
export const SESSION_FILE_PATH = /^(\.mcp\.json|\.claude\/settings\.local\.json|\.claude\/skills\/[a-z0-9]+(-[a-z0-9]+)*\/SKILL\.md)$/;

/** The files as session-files.sh reads them: a line each, "<path><TAB><base64>". */
function sessionFileLines(files: SessionFile[]): string {
  return files
    .map((file) => {
      if (!SESSION_FILE_PATH.test(file.path)) throw new Error(`Pier does not write ${file.path} into a worktree.`);
      return `${file.path}\t${Buffer.from(file.content, "utf8").toString("base64")}\n`;
    })
    .join("");
}

/** `first` at once, then `last` once it resolves: a script's input whose end is not known yet. */
function linesThen(first: string, last: Promise<string>): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    async start(controller) {
      controller.enqueue(encoder.encode(first));
      controller.enqueue(encoder.encode(await last));
      controller.close();
    },
  });
}

/** The paths of `kept=<path>` lines: files the repository tracks itself, so Pier left them alone. */
function keptPaths(out: string): string[] {
  return out
    .split("\n")
    .filter((line) => line.startsWith("kept="))
    .map((line) => line.slice("kept=".length));
}

export interface DiffFile {
  path: string;
  status: "added" | "modified" | "deleted" | "untracked" | "type_changed";
  additions: number;
  deletions: number;
  /** Its patch was cut off at the per-file limit. */
  truncated?: boolean;
}

export interface SessionDiff {
  files: DiffFile[];
  patch: string;
  /** Some of the patch is not shown (per file or overall). */
  truncated: boolean;
  /** What was left out and why, for the person, when anything was. */
  notice: string | null;
}

/** A file's patch is cut off past this; the whole patch past DIFF_TOTAL_BYTES. */
export const DIFF_FILE_BYTES = 256 * 1024;
export const DIFF_TOTAL_BYTES = 4 * 1024 * 1024;
/**
 * New files are listed while their names, each with 64 bytes more, fit in this: at most 16,384
 * files, whose entries in the file list take at most 2 MiB of the 4 MB the script keeps of it.
 */
export const NEW_FILES_BUDGET = 1024 * 1024;

const DIFF_STATUS: Record<string, DiffFile["status"]> = { A: "added", M: "modified", D: "deleted", T: "type_changed" };

const SESSION_FILES = podScript("session-files.sh");
const PREPARE = `${SESSION_FILES}\n${podScript("claude-code-probe.sh")}\n${podScript("prepare.sh")}`;
const SYNC_FILES = `set -euo pipefail\n${SESSION_FILES}\nsync_session_files "$1" "$2"\n`;
const HAS_BRANCH = podScript("has-branch.sh");
const CHANGES = podScript("changes.sh");
const FINISH = podScript("finish.sh");
const DIFF = podScript("diff.sh");
const CUT_PATCH = podScript("cut-patch.awk");
const CURRENT_BRANCH = podScript("current-branch.sh");
const PUSH = podScript("push.sh");
const FETCH_ORIGIN = podScript("fetch-origin.sh");
const COMMIT_TITLES = podScript("commit-titles.sh");
const WORKTREE_STATE = podScript("worktree-state.sh");

/** Whether a session's worktree is there and, when asked, the commit it has checked out. */
export interface WorktreeState {
  present: boolean;
  head: { sha: string; title: string } | null;
}

/**
 * One person's workspace of a repo: their clone and their sessions' worktrees, worked on only
 * through their pod. Whatever the pod put there (hooks, filters, symlinks, a FIFO) acts in the pod
 * or not at all; nothing of it reaches the server, which only reads bounded output.
 */
export class Workspace {
  constructor(
    private shell: PodShell,
    private paths: WorkspacePaths,
  ) {}

  /**
   * Readies the session's worktree with Pier's files in it; `cloned` when the person's clone was
   * made just now, `made` when the worktree was (rather than found, as a restart finds it), `kept`
   * the files of Pier's the repo tracks itself (and so were left alone).
   */
  async prepare(input: PrepareInput): Promise<{ cloned: boolean; made: boolean; baseSha: string | null; kept: string[]; podFacts: string | null }> {
    const go = input.mirrorFetched.then(
      () => "go\n",
      () => "stop\n",
    );
    const { clone, mirror, credentialHelper } = this.paths;
    const args = [
      clone, mirror, input.url, credentialHelper, input.worktree, input.branch, input.createdBranch ? "1" : "0", input.baseRef,
      input.identity.name, input.identity.email, input.baseSha ?? "", input.legacy?.clone ?? "", input.podFactsFor ?? "", ...(input.legacy?.branches ?? []),
    ];
    const traced = tracing();
    const env = traced ? { PIER_TRACE: "1" } : undefined;
    const stdin = linesThen(sessionFileLines(input.files), go);
    const result = await runPodScript(this.shell, PREPARE, args, { stdin, timeoutMs: 10 * 60_000, env });
    await input.mirrorFetched;
    const out = expectSuccess(result, "Preparing the worktree");
    if (traced) tracePodMarks("worktree", out);
    if (readFields(out).get("stopped") === "1") throw new Error("Preparing the worktree stopped before it began: its input ended early.");
    const fields = readFields(out);
    const podFacts = out
      .split("\n")
      .filter((line) => line.startsWith("pod."))
      .map((line) => line.slice("pod.".length));
    return { cloned: fields.get("cloned") === "1", made: fields.get("made") === "1", baseSha: fields.get("base") || null, kept: keptPaths(out), podFacts: podFacts.length > 0 ? podFacts.join("\n") : null };
  }

  /** Brings Pier's files in a live session's worktree up to date: writes these, removes the ones no longer given. */
  async syncFiles(worktree: string, files: SessionFile[]): Promise<{ kept: string[] }> {
    const out = expectSuccess(await runPodScript(this.shell, SYNC_FILES, [this.paths.clone, worktree], { stdin: sessionFileLines(files), timeoutMs: 60_000 }), "Writing Pier's files");
    return { kept: keptPaths(out) };
  }

  /** Whether the worktree is there (see scripts/worktree-state.sh); with `withHead`, its commit too. */
  async worktreeState(worktree: string, withHead = false): Promise<WorktreeState> {
    const out = expectSuccess(await runPodScript(this.shell, WORKTREE_STATE, [worktree, withHead ? "1" : "0"], { timeoutMs: 15_000, maxOutputBytes: 64 * 1024 }), "Looking for the worktree");
    const fields = readFields(out);
    const [sha = "", ...title] = (fields.get("head") ?? "").split(" ");
    // The commit's subject is the pod's words: made fit to show, like any text from a pod.
    const head = /^[0-9a-f]{40,64}$/.test(sha) ? { sha, title: forPerson(title.join(" ")).slice(0, 200) } : null;
    return { present: fields.get("present") === "1", head };
  }

  async hasBranch(branch: string): Promise<boolean> {
    const out = expectSuccess(await runPodScript(this.shell, HAS_BRANCH, [this.paths.clone, branch], { timeoutMs: 30_000 }), "Looking for the branch");
    return out.trim() === "yes";
  }

  /** The branch checked out in the worktree now, or null (detached, or no worktree). */
  async currentBranch(worktree: string): Promise<string | null> {
    const out = expectSuccess(await runPodScript(this.shell, CURRENT_BRANCH, [worktree], { timeoutMs: 15_000 }), "Reading the branch");
    return out.trim() || null;
  }

  /**
   * Pushes the branch to the remote (with the person's token, asked of Pier by git itself); a
   * failure is git's own reason with its status (see pushFailure). With `forceWithLease`, a
   * rewritten branch replaces the remote's if the remote is still where the clone last saw it.
   */
  async push(branch: string, options: { forceWithLease?: boolean } = {}): Promise<void> {
    const args = [this.paths.clone, branch, ...(options.forceWithLease ? ["lease"] : [])];
    const result = await runPodScript(this.shell, PUSH, args, { timeoutMs: 5 * 60_000 });
    if (result.exitCode !== 0 || result.timedOut) throw pushFailure(branch, result);
  }

  /** Brings the clone's origin/* up to date from the mirror (fetched by the server just before). */
  async fetchOrigin(): Promise<void> {
    expectSuccess(await runPodScript(this.shell, FETCH_ORIGIN, [this.paths.clone, this.paths.mirror], { timeoutMs: 2 * 60_000 }), "Fetching the base");
  }

  /** The titles of the branch's commits that the base does not have, oldest first. */
  async commitTitles(base: string, branch: string): Promise<string[]> {
    const out = expectSuccess(await runPodScript(this.shell, COMMIT_TITLES, [this.paths.clone, base, branch], { timeoutMs: 30_000 }), "Listing commits");
    return out.split("\n").filter(Boolean);
  }

  /** What ending would do: the paths it would save in a commit and the commits not yet pushed. */
  async changes(worktree: string, branch: string): Promise<{ uncommittedFiles: string[]; unpushedCommits: number }> {
    const out = expectSuccess(await runPodScript(this.shell, CHANGES, [this.paths.clone, worktree, branch], { timeoutMs: 60_000 }), "Checking for changes");
    const [status = "", unpushed = "0"] = out.split("\n");
    // Entries are "XY path"; with --no-renames each is one field.
    const uncommittedFiles = decode(status)
      .split("\0")
      .filter((entry) => entry.length > 3)
      .map((entry) => entry.slice(3));
    return { uncommittedFiles, unpushedCommits: Number(unpushed) || 0 };
  }

  /** Saves uncommitted work as a commit (never pushed), then removes the worktree; the branch stays. */
  async finish(worktree: string, branch: string, message: string): Promise<{ savedCommit: string | null; unpushedCommits: number }> {
    const result = await runPodScript(this.shell, FINISH, [this.paths.clone, worktree, branch], { stdin: message, timeoutMs: 5 * 60_000 });
    const fields = readFields(expectSuccess(result, "Saving the session's work"));
    return { savedCommit: fields.get("saved") || null, unpushedCommits: Number(fields.get("unpushed")) || 0 };
  }

  /**
   * The session's changes against `base`, new files' content among them, cut to DIFF_FILE_BYTES
   * per file and DIFF_TOTAL_BYTES overall; new files are listed while they fit NEW_FILES_BUDGET.
   * Nothing of the person's index or files changes (see scripts/diff.sh).
   */
  async diff(worktree: string, base: string, branch: string): Promise<SessionDiff> {
    const args = [this.paths.clone, worktree, base, branch, String(DIFF_FILE_BYTES), String(DIFF_TOTAL_BYTES), CUT_PATCH, String(NEW_FILES_BUDGET)];
    const out = expectSuccess(await runPodScript(this.shell, DIFF, args, { timeoutMs: 2 * 60_000, maxOutputBytes: 16 * 1024 * 1024 }), "Computing the diff");
    const [listLine = "", untrackedLine = "", moreNew = "0", patchLine = ""] = out.split("\n");
    const untracked = decode(untrackedLine).split("\0").filter(Boolean);
    const files = parseFileList(decode(listLine), new Set(untracked));
    // Listed by git but not in the diff: a repository inside the worktree ("dir/"), or a file gone meanwhile.
    const inDiff = new Set(files.map((f) => f.path));
    const notInDiff = untracked.filter((path) => !inDiff.has(path)).map((path): DiffFile => ({ path, status: "untracked", additions: 0, deletions: 0 }));

    const cutPatch = decode(patchLine);
    const trailerAt = cutPatch.lastIndexOf("\x1e");
    const patch = trailerAt === -1 ? cutPatch : cutPatch.slice(0, trailerAt);
    const [cutList = "", over = "0"] = (trailerAt === -1 ? "" : cutPatch.slice(trailerAt + 1).replace(/\n$/, "")).split(" ");
    const cutIndexes = new Set(cutList.split(",").filter(Boolean).map(Number));
    const sections = patch.split(/^(?=diff --git )/m).filter((s) => s.startsWith("diff --git "));
    const cutPaths = new Set([...cutIndexes].map((i) => headerPath(sections[i] ?? "")).filter((p): p is string => p !== null));
    const shownPaths = new Set(sections.map(headerPath));
    const stoppedEarly = over === "1";
    for (const file of files) {
      // Files after the point where the whole patch stopped have no part in it at all.
      if (cutPaths.has(file.path) || (stoppedEarly && !shownPaths.has(file.path))) file.truncated = true;
    }
    const moreNewFiles = moreNew.trim() === "1";
    const truncated = stoppedEarly || cutIndexes.size > 0 || moreNewFiles;
    const notice = !truncated
      ? null
      : [
          cutPaths.size > 0 ? `Some files changed too much to show whole: each file's diff stops after ${DIFF_FILE_BYTES / 1024} KiB.` : "",
          stoppedEarly ? `The diff stops after ${DIFF_TOTAL_BYTES / 1024 / 1024} MiB; later files are listed but not shown.` : "",
          moreNewFiles ? `There are more new files than the diff lists: it lists the first ${untracked.length}.` : "",
        ]
          .filter(Boolean)
          .join(" ");
    return { files: [...files, ...notInDiff], patch, truncated, notice };
  }
}

function decode(base64: string): string {
  return Buffer.from(base64.trim(), "base64").toString("utf8");
}

/**
 * `git diff --raw --numstat -z`: raw entries (":modes shas status", then the path), then numstat
 * ones ("added\tdeleted\tpath"). A file git added only for the diff (one of `untracked`) keeps
 * the status "untracked".
 */
function parseFileList(text: string, untracked: Set<string>): DiffFile[] {
  const fields = text.split("\0");
  const status = new Map<string, DiffFile["status"]>();
  const files: DiffFile[] = [];
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i]!;
    if (field.startsWith(":")) {
      const code = field.split(" ").at(-1)?.[0] ?? "M";
      const path = fields[++i] ?? "";
      status.set(path, code === "A" && untracked.has(path) ? "untracked" : (DIFF_STATUS[code] ?? "modified"));
    } else if (field) {
      const [added, deleted, ...rest] = field.split("\t");
      const path = rest.join("\t");
      files.push({ path, status: status.get(path) ?? "modified", additions: Number(added) || 0, deletions: Number(deleted) || 0 });
    }
  }
  return files;
}

/**
 * The path in "diff --git a/<path> b/<path>" (the same path twice, as renames are off), or in
 * "diff --git "a/<path>" "b/<path>"" when git quoted it.
 */
export function headerPath(section: string): string | null {
  const header = section.slice(0, section.indexOf("\n") === -1 ? undefined : section.indexOf("\n"));
  if (header.startsWith('diff --git "')) return quotedHeaderPath(header);
  const length = (header.length - "diff --git a/ b/".length) / 2;
  if (!Number.isInteger(length) || length <= 0) return null;
  const path = header.slice("diff --git a/".length, "diff --git a/".length + length);
  return header === `diff --git a/${path} b/${path}` ? path : null;
}

function quotedHeaderPath(header: string): string | null {
  const a = readQuotedPath(header, "diff --git ".length);
  if (!a?.path.startsWith("a/") || header[a.end] !== " ") return null;
  const b = readQuotedPath(header, a.end + 1);
  const path = a.path.slice(2);
  return path.length > 0 && b?.end === header.length && b.path === `b/${path}` ? path : null;
}
