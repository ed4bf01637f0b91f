import type { Server } from "bun";
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { bridgeSocket } from "../bridge/bridge-wire.ts";
import type { GitHubWeb } from "../github/web.ts";
import { SparingLog } from "../infra/sparing-log.ts";
import { readBodyAtMost } from "../infra/read-at-most.ts";
import { placeProgram } from "../infra/static-program.ts";
import type { RelayHub } from "../previews/relay-hub.ts";
import { podServicesDir } from "../repos/layout.ts";
import { type PodFile, type PodKey, podKeyString } from "../runtime/runtime.ts";
import type { HolderHub } from "../terminal/holder/holder-stream.ts";
import { POD_CREDENTIAL_USERNAME } from "./pod-credentials.ts";
import { TokenAsks } from "./token-asks.ts";

/** Longest path a Unix socket may have on Linux (sun_path is 108 bytes with its terminating NUL). */
const MAX_SOCKET_PATH = 107;

/**
 * The body git's credential helper sends: git's description of the credential it wants
 * (protocol, host, path, username, and the remote's WWW-Authenticate headers as wwwauth[]
 * lines), a few hundred bytes, so 64 KiB leaves it room many times over.
 */
const GIT_CREDENTIAL_BODY = 64 * 1024;

/**
 * One route of the socket: the most its request's body may hold (none, for a route that states
 * no limit) and its answer. A body past its route's limit is refused (413, and the connection
 * closed) before more of it is read.
 */
interface Route {
  bodyLimit?: number;
  answer(key: PodKey, url: URL, body: string): Promise<Response>;
}
/**
 * Bun's own limit for the socket, a backstop behind the limits above: a body declared longer is
 * refused by Bun (a bare 413) before Pier sees the request. It sits above them so that a body
 * a little too long gets Pier's sentence, and is logged.
 */
const SERVER_BODY_CEILING = 1024 * 1024;
/** A pod whose requests are refused is said in the log at most this often. */
const REFUSALS_LOGGED_EVERY_MS = 10 * 60_000;

export interface PodServicesDeps {
  dataDir: string;
  /** The GitHub (github.com, or a GitHub Enterprise host) whose remotes get the token. */
  github: GitHubWeb;
  /** The GitHub token for the pod's person, or null when they have none or no live session there. */
  githubToken(key: PodKey): Promise<string | null>;
  /** Where pods reach Pier (its smart HTTP of the mirror among the rest), or null when they cannot. */
  pierUrl(): string | null;
  /** The pod's own credential for its repo's mirror over Pier's smart HTTP (see PodCredentials). */
  mirrorCredential(key: PodKey): string;
  /**
   * What starts one of the MCP servers of a live session of the pod's own person and repo (its
   * environment's secrets opened), or null for any other session or server.
   */
  mcpServer(key: PodKey, sessionId: string, name: string): Promise<PodMcpLaunch | null>;
  /** Where sessions' terminal holders reach Pier (see HolderHub); it listens on the pod's holderSocket. */
  holders?: HolderHub;
  /** Where the pod's preview relay reaches Pier (see RelayHub); it listens on the pod's relaySocket. */
  relays?: RelayHub;
  /** Pier's client for the socket (pier-ask), which the helpers use where it runs; null where it cannot be built. */
  client?: { binary(): Promise<string | null> };
  /** Pier's static programs a pod runs from its services directory, written into a pod off Pier's disk beside its files. */
  programs?: Array<{ name: string; build: { binary(): Promise<string | null> } | null }>;
  /**
   * Whether the pod reaches Pier's sockets through its bridge (see src/bridge) rather than in its
   * services directory: a pod on another Docker engine, which mounts nothing of the server's.
   */
  bridged?(key: PodKey): boolean;
}

/**
 * The session tokens a pod's helpers ask for. They come from Pier's MCP endpoint and model
 * gateway, which are made after the pods (they need the sessions, which need the pods), so they
 * are handed over once they exist (see PodServices.answerTokens); until then none is given.
 */
export interface PodSessionTokens {
  /** A token for Pier's MCP endpoint for one of the pod's live sessions (the same while it lasts), or null for any other session. */
  mcpToken(key: PodKey, sessionId: string): string | null;
  /** A token for Pier's model gateway for one of the pod's live sessions (the same while it lasts), or null for any other session. */
  gatewayToken(key: PodKey, sessionId: string): string | null;
}

/** An MCP server's command, arguments and environment, as the launcher in the pod gets them. */
export interface PodMcpLaunch {
  command: string;
  args: string[];
  env: Record<string, string>;
}

/**
 * What Pier offers each pod: a directory the pod sees read-only, holding a Unix socket Pier
 * listens on and small programs that ask it for the GitHub token at the moment they need it —
 * git's credential helper and a `gh` wrapper. So the token is in no pod file, no process's
 * arguments and no long-lived process's environment, and a rotated token takes effect at once.
 * MCP servers start the same way: a launcher asks for the server's command and secret
 * environment as it starts and becomes the server, so the secrets are only in that process's
 * environment.
 * A pod reaches only its own socket (it mounts only its own directory), so the socket itself
 * says which person asks; no network is needed (pods may have none).
 * The helpers ask through Pier's own client for the socket (pier-ask, placed beside them), so they
 * need nothing from the image but a shell; where Pier could not build it, or the pod cannot run
 * it (another machine type), they fall back to the image's curl.
 */
export class PodServices {
  private listening = new Map<string, Server<undefined>>();
  /** Whether each pod's programs were last written to dial the bridge's sockets (they are written again when that changes). */
  private written = new Map<string, boolean>();
  /** Each pod's asks for tokens, which a pod in a loop is refused past a limit. */
  private tokenAsks = new TokenAsks();
  private refusals = new SparingLog(REFUSALS_LOGGED_EVERY_MS);
  private tokens: PodSessionTokens | null = null;

  constructor(private deps: PodServicesDeps) {}

  /** From now on the pods' helpers get session tokens from `tokens` (see PodSessionTokens). */
  answerTokens(tokens: PodSessionTokens): void {
    this.tokens = tokens;
  }

  dir(key: PodKey): string {
    return podServicesDir(this.deps.dataDir, key.repoId, key.userId);
  }

  socketPath(key: PodKey): string {
    return join(this.dir(key), "pier.sock");
  }

  /** Where the pod's terminal holders connect to Pier. */
  holderSocket(key: PodKey): string {
    return join(this.dir(key), "pty.sock");
  }

  /** Where the pod's preview relay connects to Pier. */
  relaySocket(key: PodKey): string {
    return join(this.dir(key), "relay.sock");
  }

  /**
   * Where programs in the pod dial the services socket: Pier's own, for a pod that mounts the
   * services directory; the bridge's, in a directory of the pod's own, for one that reaches Pier
   * through its bridge. Everything that tells a pod program where to dial uses these three.
   */
  podSocketPath(key: PodKey): string {
    return this.bridged(key) ? bridgeSocket("services") : this.socketPath(key);
  }

  /** Where the pod's terminal holders dial Pier, as the pod sees it (see podSocketPath). */
  podHolderSocket(key: PodKey): string {
    return this.bridged(key) ? bridgeSocket("holder") : this.holderSocket(key);
  }

  /** Where the pod's preview relay dials Pier, as the pod sees it (see podSocketPath). */
  podRelaySocket(key: PodKey): string {
    return this.bridged(key) ? bridgeSocket("relay") : this.relaySocket(key);
  }

  private bridged(key: PodKey): boolean {
    return this.deps.bridged?.(key) ?? false;
  }

  /** Pier's client for the socket, as the pod sees it. */
  clientPath(key: PodKey): string {
    return join(this.dir(key), "pier-ask");
  }

  /** The credential helper for the clone's config (an absolute path the pod and the server share). */
  credentialHelper(key: PodKey): string {
    return join(this.dir(key), "git-credential-pier");
  }

  /** The git config Pier's own git commands in the pod use instead of the person's global one. */
  gitConfig(key: PodKey): string {
    return join(this.dir(key), "gitconfig");
  }

  /** What a session's .mcp.json runs to get the Authorization header for Pier's MCP endpoint. */
  mcpHeadersHelper(key: PodKey, sessionId: string): string {
    return `${join(this.dir(key), "mcp-headers")} ${sessionId}`;
  }

  /** What a session's Claude Code settings run (apiKeyHelper) to get a token for Pier's model gateway. */
  anthropicKeyHelper(key: PodKey, sessionId: string): string {
    return `${shellQuote(join(this.dir(key), "anthropic-key"))} ${sessionId}`;
  }

  /**
   * What a session's .mcp.json (and the chat's agent) runs to start one of its MCP servers:
   * `<launcher> <session id> <server name>`.
   */
  mcpLauncher(key: PodKey): string {
    return join(this.dir(key), "mcp-server");
  }

  /**
   * Where Pier's own copy of Claude Code is for a pod whose image has none (see
   * src/claude-code/supply.ts): last on PATH, so an image's own `claude` wins.
   */
  claudeCodeDir(key: PodKey): string {
    return join(this.dir(key), "claude-code");
  }

  /**
   * Where Pier's own copies of agents are for a pod (see src/agents/agent-supply.ts): started by
   * their paths, never on PATH, so an image's own copy is what the terminal runs.
   */
  agentsDir(key: PodKey): string {
    return join(this.dir(key), "agents");
  }

  /** Login shells in the pod source this, which puts the gh wrapper first on PATH and Pier's Claude Code last. */
  profile(key: PodKey): string {
    return join(this.dir(key), "profile.sh");
  }

  /**
   * Writes the pod's programs and starts answering on its socket (once per server run), then
   * places Pier's client for the socket beside them once it is built.
   */
  async open(key: PodKey, mirrorPath: string): Promise<void> {
    this.listen(key, mirrorPath);
    const client = await this.deps.client?.binary();
    if (client) placeProgram(client, this.dir(key), "pier-ask");
  }

  /**
   * What a pod off Pier's disk (on another Docker engine) gets written into it in place of its
   * services directory, at the same paths: the programs and helpers above, Pier's client and its
   * static programs (the sockets come from its bridge, src/bridge).
   */
  async podFiles(key: PodKey, mirrorPath: string): Promise<PodFile[]> {
    const dir = this.dir(key);
    const files: PodFile[] = this.files(key, mirrorPath).map(([name, content, mode]) => ({ path: join(dir, name), mode, content }));
    const client = await this.deps.client?.binary();
    if (client) files.push({ path: this.clientPath(key), mode: 0o755, content: readFileSync(client) });
    // Pier's static programs (the terminal holder, the preview relay, the bridge) at the paths they are run from, as placeProgram puts them on Pier's disk for a pod there.
    for (const program of this.deps.programs ?? []) {
      const binary = await program.build?.binary();
      if (binary) files.push({ path: join(dir, program.name), mode: 0o755, content: readFileSync(binary) });
    }
    return files;
  }

  private listen(key: PodKey, mirrorPath: string): void {
    const id = podKeyString(key);
    // Written again when the pod's sockets moved (it was placed on another engine since).
    if (this.written.get(id) !== this.bridged(key)) this.writeFiles(key, mirrorPath);
    if (this.listening.has(id)) return;
    const socket = this.socketPath(key);
    rmSync(socket, { force: true });
    const server = Bun.serve({ unix: socket, maxRequestBodySize: SERVER_BODY_CEILING, fetch: (request) => this.answer(key, request) });
    // The pod user must be able to connect; only the pod (and the server) can see the path.
    chmodSync(socket, 0o666);
    this.deps.holders?.listen(key, this.holderSocket(key));
    this.deps.relays?.listen(key, this.relaySocket(key));
    this.listening.set(id, server);
  }

  private writeFiles(key: PodKey, mirrorPath: string): void {
    const dir = this.dir(key);
    const socket = this.socketPath(key);
    if (socket.length > MAX_SOCKET_PATH) {
      throw new Error(`The data dir's path is too long for a Unix socket (${socket}); use a shorter PIER_DATA_DIR.`);
    }
    mkdirSync(join(dir, "bin"), { recursive: true, mode: 0o755 });
    for (const [name, text, mode] of this.files(key, mirrorPath)) {
      writeFileSync(join(dir, name), text, { mode });
      chmodSync(join(dir, name), mode);
    }
    this.written.set(podKeyString(key), this.bridged(key));
  }

  async closeAll(): Promise<void> {
    const servers = [...this.listening.values()];
    this.listening.clear();
    await Promise.all([...servers.map((server) => server.stop(true)), this.deps.holders?.closeAll(), this.deps.relays?.closeAll()]);
  }

  private async answer(key: PodKey, request: Request): Promise<Response> {
    const url = new URL(request.url);
    const path = url.pathname;
    const route = this.routes[`${request.method} ${path}`];
    const limit = route?.bodyLimit ?? 0;
    const body = await readBodyWithin(request, limit);
    if (body === null) {
      const id = podKeyString(key);
      this.refusals.say(`pod ${id}`, `pier: the services socket of pod ${id} refused a request whose body did not come within the ${limit} bytes ${request.method} ${path} takes.`);
      const sentence = limit === 0 ? "This request takes no body." : `This request's body may be at most ${limit / 1024} KiB.`;
      // Closing the connection is what stops Bun reading the rest.
      return new Response(`${sentence}\n`, { status: 413, headers: { connection: "close" } });
    }
    return route ? route.answer(key, url, body) : new Response("Not found.\n", { status: 404 });
  }

  /** The socket's routes, each with the body limit it takes. */
  private routes: Record<string, Route> = {
    "POST /git-credential": {
      bodyLimit: GIT_CREDENTIAL_BODY,
      answer: async (key, _url, body) => {
        // git's credential protocol: key=value lines. The GitHub host (over its own protocol) gets
        // the person's token; Pier's own address gets the pod's credential for its repo's mirror.
        const fields = new Map(
          body
            .split("\n")
            .map((line) => line.split("="))
            .filter((pair) => pair.length >= 2)
            .map(([name, ...value]) => [name!, value.join("=")] as const),
        );
        const asked = { protocol: fields.get("protocol"), host: fields.get("host") };
        if (isPier(asked, this.deps.pierUrl())) return new Response(`username=${POD_CREDENTIAL_USERNAME}\npassword=${this.deps.mirrorCredential(key)}\n`);
        const { protocol, host } = this.deps.github;
        const token = asked.protocol === protocol && asked.host === host ? await this.deps.githubToken(key) : null;
        return new Response(token ? `username=x-access-token\npassword=${token}\n` : "");
      },
    },
    "GET /mcp-headers": {
      answer: async (key, url) => {
        const refused = await this.tokenAsks.refusal(key);
        if (refused) return refused;
        const token = this.tokens?.mcpToken(key, url.searchParams.get("session") ?? "");
        return token ? Response.json({ Authorization: `Bearer ${token}` }) : new Response("No live session of yours has that id.\n", { status: 404 });
      },
    },
    "GET /anthropic-key": {
      answer: async (key, url) => {
        const refused = await this.tokenAsks.refusal(key);
        if (refused) return refused;
        const token = this.tokens?.gatewayToken(key, url.searchParams.get("session") ?? "");
        return token ? new Response(token) : new Response("No live session of yours has that id.\n", { status: 404 });
      },
    },
    "GET /mcp-server": {
      answer: async (key, url) => {
        const launch = await this.deps.mcpServer(key, url.searchParams.get("session") ?? "", url.searchParams.get("name") ?? "");
        return launch ? new Response(launchLines(launch)) : new Response("No live session of yours has an MCP server of that name.\n", { status: 404 });
      },
    },
    "GET /github-token": {
      answer: async (key) => {
        const token = await this.deps.githubToken(key);
        return token ? new Response(token) : new Response("No GitHub token is set in Pier for you.\n", { status: 404 });
      },
    },
  };

  private files(key: PodKey, mirrorPath: string): Array<[string, string, number]> {
    const socket = shellQuote(this.podSocketPath(key));
    const client = shellQuote(this.clientPath(key));
    const bin = join(this.dir(key), "bin");
    const curl = `curl -sS --fail --max-time 10 --unix-socket ${socket}`;
    // Each helper asks with Pier's client where it runs here (it is placed once built; a pod of
    // another machine type cannot run it), else with the image's curl.
    const clientRuns = `${client} version >/dev/null 2>&1`;
    const ask = `${client} ${socket}`;
    return [
      [
        "git-credential-pier",
        [
          "#!/bin/sh",
          "# Pier's git credential helper: asks Pier for the GitHub token when git needs it. Nothing is stored.",
          '[ "$1" = get ] || exit 0',
          `if ${clientRuns}; then exec ${ask} POST /git-credential; fi`,
          'command -v curl >/dev/null 2>&1 || { echo "Pier: this pod needs curl to get the GitHub token from Pier." >&2; exit 0; }',
          `exec ${curl} --data-binary @- http://pier/git-credential`,
          "",
        ].join("\n"),
        0o755,
      ],
      [
        "bin/gh",
        [
          "#!/bin/sh",
          "# gh with the GitHub token Pier holds for you, asked for at the moment of use (never stored in the pod).",
          `self=${shellQuote(bin)}`,
          "real=",
          "IFS=:",
          'for dir in $PATH; do [ "$dir" != "$self" ] && [ -x "$dir/gh" ] && { real="$dir/gh"; break; }; done',
          "unset IFS",
          '[ -n "$real" ] || { echo "gh is not installed in this pod." >&2; exit 127; }',
          `if ${clientRuns}; then ask() { ${ask} GET /github-token; }; else ask() { ${curl} http://pier/github-token; }; fi`,
          'if token=$(ask 2>/dev/null) && [ -n "$token" ]; then',
          '  GH_TOKEN=$token GH_ENTERPRISE_TOKEN=$token; export GH_TOKEN GH_ENTERPRISE_TOKEN',
          "fi",
          'exec "$real" "$@"',
          "",
        ].join("\n"),
        0o755,
      ],
      [
        "mcp-headers",
        [
          "#!/bin/sh",
          "# For Claude Code's .mcp.json (headersHelper): the session's token for Pier's MCP endpoint, asked of Pier when it connects.",
          `if ${clientRuns}; then exec ${ask} GET /mcp-headers "session=$1"; fi`,
          `exec ${curl} --get --data-urlencode "session=$1" http://pier/mcp-headers`,
          "",
        ].join("\n"),
        0o755,
      ],
      [
        "anthropic-key",
        [
          "#!/bin/sh",
          "# For Claude Code's apiKeyHelper: a token for Pier's model gateway, good for this session only,",
          "# asked of Pier whenever Claude Code wants one. The real credential stays with Pier.",
          `if ${clientRuns}; then exec ${ask} GET /anthropic-key "session=$1"; fi`,
          'command -v curl >/dev/null 2>&1 || { echo "Pier: this pod needs curl to reach Pier\'s model gateway." >&2; exit 1; }',
          `exec ${curl} --get --data-urlencode "session=$1" http://pier/anthropic-key`,
          "",
        ].join("\n"),
        0o755,
      ],
      [
        "mcp-server",
        [
          "#!/usr/bin/env bash",
          "# Starts one of a session's MCP servers (for Claude Code's .mcp.json and Pier's chat agent): asks",
          "# Pier for its command, arguments and environment as it starts, sets the environment with shell",
          "# builtins (so no value is ever in a process's arguments or in a file) and becomes the server.",
          "# The environment is set last, after everything else has run: it may change PATH, and its names",
          "# may be any, so the launcher's own variables are __pier_ ones (names Pier refuses for servers).",
          'if [ $# -ne 2 ]; then echo "usage: mcp-server <session id> <server name>" >&2; exit 2; fi',
          "__pier_ask() {",
          `  if ${clientRuns}; then ${ask} GET /mcp-server "session=$1" "name=$2"; return; fi`,
          '  command -v curl >/dev/null 2>&1 || { echo "Pier: this pod needs curl to start MCP servers." >&2; return 1; }',
          `  ${curl} --get --data-urlencode "session=$1" --data-urlencode "name=$2" http://pier/mcp-server`,
          "}",
          "# base64 on stdin, into the variable named $2 (trailing newlines kept).",
          '__pier_decode() { local __pier_text; __pier_text=$(printf %s "$1" | base64 -d && printf x) || return 1; printf -v "$2" %s "${__pier_text%x}"; }',
          "__pier_command= __pier_args=() __pier_env=() __pier_complete=",
          "while read -r __pier_kind __pier_first __pier_second; do",
          '  case $__pier_kind in',
          '    command) __pier_decode "$__pier_first" __pier_command ;;',
          '    arg) __pier_decode "$__pier_first" __pier_value && __pier_args+=("$__pier_value") ;;',
          '    env) __pier_decode "$__pier_second" __pier_value && __pier_env+=("$__pier_first=$__pier_value") ;;',
          "    end) __pier_complete=1 ;;",
          "  esac",
          'done < <(__pier_ask "$1" "$2")',
          'if [ -z "$__pier_complete" ] || [ -z "$__pier_command" ]; then echo "Pier: could not get the MCP server $2 of this session from Pier." >&2; exit 1; fi',
          'set -- "$__pier_command" "${__pier_args[@]}"',
          'for __pier_pair in "${__pier_env[@]}"; do export "$__pier_pair"; done',
          'exec -- "$@"',
          "",
        ].join("\n"),
        0o755,
      ],
      ["profile.sh", profileScript(bin, this.claudeCodeDir(key)), 0o644],
      // For Pier's own git commands in the pod, whose user may not own the mirror.
      ["gitconfig", `[safe]\n\tdirectory = ${gitConfigQuote(mirrorPath)}\n`, 0o644],
    ];
  }
}

/**
 * What login shells in the pod source (/etc/profile.d/pier.sh): the environment's PATH (its
 * remoteEnv's, which a login shell's /etc/profile would otherwise set back), the gh wrapper first on PATH,
 * Pier's Claude Code last, and in a session's terminal (whose environment names the repo and the
 * worktree) a short prompt: `user@repo/path$` inside the worktree, `user@repo:dir$` outside it,
 * whatever the image, in place of bash's `I have no name!@<container id>:<data dir path>`.
 * The prompt is set after the shell's own startup files have run (at the first prompt, through
 * PROMPT_COMMAND), so it wins over a prompt they only assign, such as Debian's in ~/.bashrc; a
 * prompt program that takes PROMPT_COMMAND over (starship, oh-my-bash) keeps its own, and PS1
 * set in the shell afterwards is the person's. POSIX sh throughout: sh -l reads this too.
 */
function profileScript(bin: string, claudeCodeDir: string): string {
  return [
    'if [ -n "${PIER_REMOTE_PATH-}" ]; then PATH=$PIER_REMOTE_PATH; export PATH; fi',
    `case ":$PATH:" in *:${shellQuote(bin)}:*) ;; *) PATH=${shellQuote(bin)}:$PATH; export PATH ;; esac`,
    `case ":$PATH:" in *:${shellQuote(claudeCodeDir)}:*) ;; *) PATH=$PATH:${shellQuote(claudeCodeDir)}; export PATH ;; esac`,
    'if [ -n "${BASH_VERSION-}" ] && [ -n "${PIER_WORKTREE-}" ] && [ -n "${PIER_REPO-}" ]; then',
    "  __pier_where() {",
    "    case $PWD in",
    '      "$PIER_WORKTREE" | "$PIER_WORKTREE"/*) printf %s "$PIER_REPO${PWD#"$PIER_WORKTREE"}" ;;',
    '      "$HOME" | "$HOME"/*) printf %s "$PIER_REPO:~${PWD#"$HOME"}" ;;',
    '      *) printf %s "$PIER_REPO:$PWD" ;;',
    "    esac",
    "  }",
    '  __pier_prompt() { if [ "$PROMPT_COMMAND" = __pier_prompt ]; then PS1=\'\\u@$(__pier_where)\\$ \'; unset PROMPT_COMMAND; fi; }',
    "  PROMPT_COMMAND=__pier_prompt",
    "fi",
    "",
  ].join("\n");
}

/**
 * The launcher's answer, which bash reads without jq: a line per item, each text in base64 (so
 * no value can break a line), and `end` last so a cut-off answer is never taken for a whole one.
 */
function launchLines(launch: PodMcpLaunch): string {
  const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64");
  return [
    `command ${b64(launch.command)}`,
    ...launch.args.map((arg) => `arg ${b64(arg)}`),
    ...Object.entries(launch.env).map(([name, value]) => `env ${name} ${b64(value)}`),
    "end",
    "",
  ].join("\n");
}

/**
 * The request's body as text, or null when it does not come within `limit` bytes: one that says
 * it is longer is refused before any of it is read, one sent in chunks as soon as they pass it.
 */
async function readBodyWithin(request: Request, limit: number): Promise<string | null> {
  if (!request.headers.has("content-length") && request.headers.has("transfer-encoding") && limit === 0) return null;
  try {
    const bytes = await readBodyAtMost(request, limit);
    return bytes && Buffer.from(bytes).toString("utf8");
  } catch {
    // The body broke off (the pod's client went, or Bun stopped it at its own limit): it did not come within the limit either.
    return null;
  }
}

/**
 * Whether git asks for a credential for Pier's own address (where pods reach Pier): the same
 * scheme and the same host and port, as git names them (`host` carries a port that is not the
 * scheme's default, as URL.host does).
 */
function isPier(asked: { protocol?: string; host?: string }, pierUrl: string | null): boolean {
  if (!pierUrl) return false;
  const pier = new URL(pierUrl);
  return asked.protocol === pier.protocol.replace(/:$/, "") && asked.host?.toLowerCase() === pier.host.toLowerCase();
}

/** A value for a git config file: in double quotes, with backslashes and quotes escaped. */
function gitConfigQuote(text: string): string {
  return `"${text.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;
}

/** Quotes a string for sh: inside single quotes nothing is special but the quote itself. */
export function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}
