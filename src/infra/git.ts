import { simpleGit, type SimpleGit } from "simple-git";

/** The user that owns the files in repo directories: the pod user. */
export interface FileOwner {
  uid: number;
  gid: number;
}

/**
 * A credential helper that answers with a token from an environment variable, so the token is
 * never written to a file or a URL. GitHub accepts any username with a token as the password.
 */
export function tokenCredentialHelper(envVar: string): string {
  return `!f() { test "$1" = get && test -n "$${envVar}" && echo username=x-access-token && echo "password=$${envVar}"; }; f`;
}

export interface GitOptions {
  /** Run git as this user: the pod user owns the repo's files, and runs nothing as root here. */
  owner?: FileOwner | null;
  /** A token for https remotes, handed to git through the environment only. */
  token?: string | null;
  /**
   * Git's global config file. Command-line config does not reach the git that serves a local
   * (file://) remote, so settings that must hold there too (safe.directory) go in this file.
   */
  globalConfig?: string;
}

/** The contents of the global config file for server-side git (see GitOptions.globalConfig). */
export const SERVER_GITCONFIG = "[safe]\n\tdirectory = *\n";

/**
 * simple-git, set up the one way Pier uses it on the server: never prompting, never running
 * hooks, and ignoring system and global config.
 * Repositories are shared with pods, so their files belong to the pod user; when the server runs
 * as root it runs git as that user too (a repo's config is writable from the pod, and root must
 * not obey it), with safe.directory accepting the owner.
 *
 * simple-git refuses dangerous options by default; the exceptions made here are the credential
 * helper, the hooks path, fsmonitor and the global config path, which Pier sets itself (its own
 * helper; hooks and fsmonitor off; no global config) and
 * never takes from user input.
 */
export function git(baseDir: string, options: GitOptions = {}): SimpleGit {
  // Remote helpers such as ext:: are off by git's own default (protocol.ext.allow=never) and
  // refused by checkRepoUrl before a URL is ever stored.
  const config = ["safe.directory=*", "core.hooksPath=/dev/null", "core.fsmonitor=false"];
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: baseDir,
    GIT_TERMINAL_PROMPT: "0",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: options.globalConfig ?? "/dev/null",
    LANG: "C",
  };
  // An empty helper first: the server never uses helpers from the repo's config (that one is for pods).
  config.push("credential.helper=");
  if (options.token) {
    config.push(`credential.helper=${tokenCredentialHelper("PIER_GIT_TOKEN")}`);
    env.PIER_GIT_TOKEN = options.token;
  }
  return simpleGit({
    baseDir,
    config,
    unsafe: { allowUnsafeCredentialHelper: true, allowUnsafeHooksPath: true, allowUnsafeFsMonitor: true, allowUnsafeConfigPaths: true },
    allowEnvironment: Object.keys(env),
    timeout: { block: 5 * 60 * 1000 },
    spawnOptions: options.owner ? { uid: options.owner.uid, gid: options.owner.gid } : {},
  }).env(env);
}
