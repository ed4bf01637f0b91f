import { open } from "node:fs/promises";

/**
 * A credential helper that answers with a token from an environment variable, so the token is
 * never written to a file, a URL or a command line. GitHub accepts any username with a token as
 * the password.
 */
function tokenCredentialHelper(envVar: string): string {
  return `!f() { test "$1" = get && test -n "$${envVar}" && echo username=x-access-token && echo "password=$${envVar}"; }; f`;
}

/** The contents of the global config file for server-side git (see serverGit). */
export const SERVER_GITCONFIG = "[safe]\n\tdirectory = *\n";

/** What server-side git is given (see serverGit): its global config, and a token for the remote if it needs one. */
interface ServerGitOptions {
  globalConfig: string;
  token?: string | null;
  timeoutMs?: number;
  /** At most this much of stdout is kept; past it git is stopped and the output says truncated. */
  maxBytes?: number;
}

/** Bytes of output serverGit accepts (a remote with very many branches lists them in a few MB). */
const SERVER_GIT_MAX_BYTES = 64 * 1024 * 1024;
const SERVER_GIT_TIMEOUT_MS = 5 * 60 * 1000;

/**
 * Git for the server's own work: the repos' mirrors, which live in a part of the data dir no pod
 * can write, and questions to a remote. It never prompts, never runs hooks, and ignores system
 * and user config. The server never runs git on a pod's clone or worktree: that work goes
 * through the runtime into the pod (src/workspaces). Resolves with stdout; a failure throws git's
 * own words (its "fatal:" line is what a person is shown).
 *
 * `globalConfig` is git's global config file: command-line config does not reach the git that
 * serves a local (file://) remote, so safe.directory, which must hold there too, goes in it.
 *
 * Spawned directly rather than through simple-git, which waits a further 50 ms after any git that
 * printed nothing (as a quiet fetch of an up-to-date mirror does): on every session's start.
 */
export async function serverGit(dir: string, args: string[], options: ServerGitOptions): Promise<string> {
  const out = await runGit(dir, args, { maxBytes: SERVER_GIT_MAX_BYTES, timeoutMs: SERVER_GIT_TIMEOUT_MS, ...options });
  if (out.truncated) throw new Error(`git ${args[0]} printed more than ${SERVER_GIT_MAX_BYTES / 1024 / 1024} MiB.`);
  if (out.exitCode !== 0) throw new Error(out.stderr.trim() || `git ${args[0]} exited with code ${out.exitCode}.`);
  return out.stdout.toString("utf8");
}

/** What a bounded read of git gave: at most the bytes asked for, and whether there was more. */
export interface GitOutput {
  exitCode: number;
  stdout: Buffer;
  /** The output went past the bound and git was stopped there. */
  truncated: boolean;
  stderr: string;
}

/**
 * Git in one of the server's own repositories (a mirror) for questions whose answer comes from
 * a repository's content: a listing or a file. Whatever a repository holds (a million entries, a
 * huge blob), no more than `maxBytes` of it reaches the server's memory: git is stopped there.
 * The same safe settings as serverGit; never a token, since nothing here talks to a remote.
 */
export function readGit(gitDir: string, args: string[], options: { globalConfig: string; maxBytes: number; timeoutMs?: number }): Promise<GitOutput> {
  return runGit(gitDir, ["--git-dir", gitDir, ...args], options);
}

/**
 * Git in one of the server's own repositories (a mirror) writing its output (a tar of a tree, say)
 * to `file`, a new file in a server-only directory: at most `maxBytes` of it, then git is stopped
 * and the result says truncated. The file is created, never opened if it exists, so nothing there
 * is followed or overwritten.
 */
export async function readGitToFile(gitDir: string, args: string[], options: { globalConfig: string; maxBytes: number; timeoutMs?: number; file: string }): Promise<Omit<GitOutput, "stdout">> {
  const handle = await open(options.file, "wx", 0o600);
  try {
    const out = await runGit(gitDir, ["--git-dir", gitDir, ...args], options, (chunk) => handle.write(chunk).then(() => undefined));
    return { exitCode: out.exitCode, truncated: out.truncated, stderr: out.stderr };
  } finally {
    await handle.close();
  }
}

/**
 * Git with the server's safe settings, keeping at most `maxBytes` of its output (in memory, or
 * handed to `write` as it comes). Remote helpers such as ext:: are off by git's own default
 * (protocol.ext.allow=never) and refused by checkRepoUrl before a URL is ever stored. A token
 * reaches git only through the environment, for a credential helper that answers with it.
 */
async function runGit(dir: string, args: string[], options: ServerGitOptions & { maxBytes: number }, write?: (chunk: Uint8Array) => Promise<void>): Promise<GitOutput> {
  const config = ["safe.directory=*", "core.hooksPath=/dev/null", "core.fsmonitor=false", "credential.helper="];
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: dir,
    GIT_TERMINAL_PROMPT: "0",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: options.globalConfig,
    LANG: "C",
  };
  if (options.token) {
    config.push(`credential.helper=${tokenCredentialHelper("PIER_GIT_TOKEN")}`);
    env.PIER_GIT_TOKEN = options.token;
  }
  const child = Bun.spawn(["git", ...config.flatMap((entry) => ["-c", entry]), ...args], {
    cwd: dir,
    env,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    timeout: options.timeoutMs ?? 30_000,
    killSignal: "SIGKILL",
  });
  const chunks: Buffer[] = [];
  const keep = write ?? (async (chunk: Uint8Array) => void chunks.push(Buffer.from(chunk)));
  let kept = 0;
  let truncated = false;
  const reader = child.stdout.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      const room = options.maxBytes - kept;
      if (value.byteLength > room) {
        await keep(value.subarray(0, room));
        kept += room;
        truncated = true;
        child.kill("SIGKILL");
        await reader.cancel();
        break;
      }
      await keep(value);
      kept += value.byteLength;
    }
  } catch (error) {
    // Where the output goes failed (a full disk): git is not left running until its timeout.
    child.kill("SIGKILL");
    throw error;
  }
  const [stderr, exitCode] = await Promise.all([new Response(child.stderr).text(), child.exited]);
  return { exitCode, stdout: Buffer.concat(chunks), truncated, stderr: stderr.slice(0, 2000) };
}
