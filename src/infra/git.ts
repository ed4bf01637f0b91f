import { simpleGit, type SimpleGit } from "simple-git";

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

/**
 * simple-git for the server's own git work: the repos' mirrors, which live in a part of the
 * data dir no pod can write, and questions to a remote. It never prompts, never runs hooks, and
 * ignores system and user config. The server never runs git on a pod's clone or worktree: that
 * work goes through the runtime into the pod (src/workspaces).
 *
 * `globalConfig` is git's global config file: command-line config does not reach the git that
 * serves a local (file://) remote, so safe.directory, which must hold there too, goes in it.
 *
 * simple-git refuses dangerous options by default; the exceptions made here are the credential
 * helper, the hooks path, fsmonitor and the global config path, which Pier sets itself and never
 * takes from user input.
 */
export function serverGit(baseDir: string, options: { token: string | null; globalConfig: string }): SimpleGit {
  // Remote helpers such as ext:: are off by git's own default (protocol.ext.allow=never) and
  // refused by checkRepoUrl before a URL is ever stored.
  const config = ["safe.directory=*", "core.hooksPath=/dev/null", "core.fsmonitor=false", "credential.helper="];
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: baseDir,
    GIT_TERMINAL_PROMPT: "0",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: options.globalConfig,
    LANG: "C",
  };
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
  }).env(env);
}
