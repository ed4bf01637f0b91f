import { join } from "node:path";
import type { ClaudeCodeLaunch } from "../../claude-code/launch.ts";
import type { Usage } from "../../costs/usage.ts";
import type { Db } from "../../infra/db.ts";
import type { Pods } from "../../pods/pods.ts";
import { getRepo } from "../../repos/repos.ts";
import type { Session } from "../../sessions/session.ts";
import type { AnthropicCredential } from "../../settings/credentials.ts";
import type { SettingsStore } from "../../settings/settings.ts";
import { KEY_REFUSED, SIGN_IN_EXPIRED, TOKENS_URL } from "../../settings/sign-in.ts";
import type { ChatEngine, Turn } from "../engine.ts";
import type { NewChatItem } from "../items.ts";
import { QUOTED_BLOCKS_ARE_DATA } from "../quoted.ts";
import { ClaudeCodeProcess, type ClaudeMessage, type ClaudePlace } from "./claude-code-process.ts";
import { saveClaudeSessionId, savedClaudeSessionId } from "./claude-code-session-id.ts";
import { editDiff, pierCall, resultText } from "./claude-code-tools.ts";
import { busyReason } from "./model-retry.ts";

export interface ClaudeCodeEngineDeps {
  db: Db;
  pods: Pods;
  settings: SettingsStore;
  /** How Claude Code starts for the session: its program, and the environment only its process gets. */
  launch(session: Session): Promise<ClaudeCodeLaunch>;
  /**
   * Whether the API refused the session's person's credential since this was last asked, and of
   * which kind: Claude Code words that failure as its own key's ("Invalid API key"), though its
   * key is Pier's gateway token and the refused one is the person's.
   */
  refusedCredential(sessionId: string): AnthropicCredential["kind"] | null;
}

/** After an interrupt, Claude Code has this long to end its turn before its process is stopped. */
const INTERRUPT_GRACE_MS = 10_000;
/**
 * Claude Code says something (its `system` init) within moments of each message; one that has
 * said nothing this long after a message is stuck, and is stopped and started again.
 */
const SILENT_MS = 30_000;
/** Where in the person's workspace the chat's Claude Code keeps its conversations and settings (its CLAUDE_CONFIG_DIR). */
const CLAUDE_CODE_STATE = "claude-code";
/** What Claude Code says when it is asked to resume a conversation it does not have. */
const NO_CONVERSATION = /No conversation found/i;
/** The PreToolUse hook Pier registers: every tool call of Claude Code's is judged by Pier first. */
const POLICY_HOOK = "pier_tool_policy";

interface Live {
  process: ClaudeCodeProcess;
  /** What the process was started with; a change (another program, key or model) starts a new one. */
  fingerprint: string;
}

/**
 * Claude Code as the chat's engine: one long-lived Claude Code process per session in its pod,
 * in its worktree, as the pod user, spoken to in stream-json. Each turn sends the person's new
 * messages and maps what Claude Code reports onto Pier's chat items, so the page shows the same
 * text deltas, tool cards, diffs and approvals as for Pier's own agent. Every tool call reaches
 * the turn's `authorize` through a PreToolUse hook on the control protocol, so the session's tool
 * policy (and its approval card) rules Claude Code's calls as it rules Pier's. Claude Code's own
 * session id is kept with the session: a new process (after a crash, a server restart or an
 * interrupt that had to stop it) resumes that conversation.
 */
export class ClaudeCodeEngine implements ChatEngine {
  /** Each live session's process: stopped and let go as its host ends it (HostParts.stopAgentProcesses). */
  private live = new Map<string, Live>();

  constructor(private deps: ClaudeCodeEngineDeps) {}

  async runTurn(turn: Turn): Promise<void> {
    const { session } = turn;
    const launch = await this.deps.launch(session);
    if (!launch.meteredByGateway && !hasCredential(launch.env)) {
      turn.record({
        kind: "error",
        message: "No Anthropic API key or Claude Code token is set, so Claude Code cannot answer. Add one in settings or under your tokens.",
        settingsUrl: "/settings",
      });
      return;
    }
    const text = newMessages(turn);
    if (!text) return;
    const model = session.model ?? this.deps.settings.plain().defaultModel;
    const shell = await this.deps.pods.ensure(getRepo(this.deps.db, session.repoId), session.userId);
    const place: ClaudePlace = { runtime: shell.runtime, pod: shell.pod, cwd: session.worktreePath };
    turn.begin();
    let process = await this.processFor(session, place, shell.cwd, launch, model, turn);
    if (!process) return;
    const refused = () => this.deps.refusedCredential(session.id);
    const run = (on: ClaudeCodeProcess) => new TurnRun(turn, on, session, launch.meteredByGateway, (id) => saveClaudeSessionId(this.deps.db, session.id, id), refused).run(text);
    // A process that had died or hung between turns (nothing of this turn was heard) is started
    // again, resuming, and given the message once more; processFor tells the person.
    if ((await run(process)) === "unheard") {
      process = await this.processFor(session, place, shell.cwd, launch, model, turn);
      if (!process) return;
      if ((await run(process)) === "unheard") {
        turn.record({ kind: "error", message: `Claude Code did not answer: ${process.problem ?? "it said nothing"}. Your message is kept; send another to try again.` });
        process.told = true;
      }
    }
    if (process.ended) {
      this.live.delete(session.id);
      await process.stop();
    }
  }

  /** The session ends: its Claude Code process stops (a resumed session starts another, resuming). */
  async stop(sessionId: string): Promise<void> {
    const live = this.live.get(sessionId);
    this.live.delete(sessionId);
    await live?.process.stop();
  }

  /**
   * At start-up, before Pier listens: the Claude Code processes of sessions whose turn a killed
   * server cut off are ended in their pods. Left alone they would carry on with that turn and ask
   * the model through the gateway as soon as Pier is back, beside the conversation resumed later.
   */
  async stopLeftovers(sessions: Session[]): Promise<void> {
    await Promise.all(
      sessions.map(async (session) => {
        try {
          const shell = await this.deps.pods.ensure(getRepo(this.deps.db, session.repoId), session.userId);
          await ClaudeCodeProcess.stopLeftovers({ runtime: shell.runtime, pod: shell.pod, cwd: session.worktreePath }, session.id);
        } catch (error) {
          console.error(`[pier] Claude Code left running by the last server in session ${session.id} could not be stopped: ${error instanceof Error ? error.message : String(error)}`);
        }
      }),
    );
  }

  /** Server shutdown: every process stops (its conversation is saved in the pod, and resumed later). */
  async stopAll(): Promise<void> {
    await Promise.all([...this.live.keys()].map((id) => this.stop(id)));
  }

  /**
   * The session's running process, or a new one: resuming Claude Code's saved conversation when
   * the session has one. A process that went away by itself is told to the person once.
   */
  private async processFor(session: Session, place: ClaudePlace, stateIn: string, launch: ClaudeCodeLaunch, model: string, turn: Turn): Promise<ClaudeCodeProcess | null> {
    const fingerprint = JSON.stringify([launch.command, launch.env, model, place.pod.id, session.worktreePath]);
    const running = this.live.get(session.id);
    if (running && !running.process.ended && running.fingerprint === fingerprint) return running.process;
    // Why the last process stopped, when it went away by itself and nobody was told yet.
    const stopped = running?.process.problem && !running.process.told ? `Claude Code stopped: ${running.process.problem}.` : null;
    if (running) {
      this.live.delete(session.id);
      await running.process.stop();
    }
    const argv = (resume: string | null) => [
      launch.command,
      "-p",
      "--input-format",
      "stream-json",
      "--output-format",
      "stream-json",
      "--include-partial-messages",
      "--verbose",
      "--permission-prompt-tool",
      "stdio",
      "--model",
      model,
      // Claude Code's own system prompt, plus Pier's rule on what others wrote (task text over MCP).
      "--append-system-prompt",
      QUOTED_BLOCKS_ARE_DATA,
      ...(resume ? ["--resume", resume] : ["--session-id", crypto.randomUUID()]),
    ];
    // Its conversations are kept in the person's workspace, which outlives their pod: a pod
    // removed and made again goes on with them (in the container's home they went with it).
    const env = { ...launch.env, CLAUDE_CONFIG_DIR: join(stateIn, CLAUDE_CODE_STATE) };
    const resume = savedClaudeSessionId(this.deps.db, session.id);
    // The first this server starts for the session: one a killed server left running goes first.
    if (!running) await ClaudeCodeProcess.stopLeftovers(place, session.id);
    let started = await this.start(place, session.id, argv(resume), env);
    if ("said" in started && resume && NO_CONVERSATION.test(started.said)) {
      turn.record({
        kind: "error",
        message: `${stopped ? `${stopped} ` : ""}Claude Code's saved conversation is gone (it was kept where it no longer is, such as a pod that was removed), so it starts a new one: it does not remember what was said above, which this chat keeps.`,
      });
      started = await this.start(place, session.id, argv(null), env);
    } else if (stopped) {
      turn.record({ kind: "error", message: `${stopped} Pier started it again; the conversation goes on where it was.` });
    }
    if ("said" in started && started.unstarted) {
      turn.record({ kind: "error", message: `Claude Code could not be started in the pod: ${started.unstarted}` });
      return null;
    }
    if ("said" in started) {
      turn.record({ kind: "error", message: `Claude Code did not start in the pod${started.said ? `: ${started.said.slice(0, 500)}` : "."} Is \`${launch.command}\` there?` });
      return null;
    }
    const { process } = started;
    this.live.set(session.id, { process, fingerprint });
    return process;
  }

  /**
   * Starts Claude Code and hands it Pier's hook; what it said on stderr when it did not take it
   * (it exited: a resumed conversation it cannot find, a program that is not there).
   */
  private async start(place: ClaudePlace, sessionId: string, argv: string[], env: Record<string, string>): Promise<{ process: ClaudeCodeProcess } | { said: string; unstarted?: string }> {
    let process: ClaudeCodeProcess;
    try {
      process = await ClaudeCodeProcess.start(place, sessionId, argv, env);
    } catch (error) {
      return { said: "", unstarted: error instanceof Error ? error.message : String(error) };
    }
    void process.exited.then(() => process.markGone("it exited"));
    const init = await process.request({ subtype: "initialize", hooks: { PreToolUse: [{ matcher: null, hookCallbackIds: [POLICY_HOOK] }] } });
    if ((init.response as { subtype?: unknown } | undefined)?.subtype === "success") return { process };
    const said = process.stderrTail();
    await process.stop();
    return { said };
  }
}

/**
 * One turn of Claude Code's: sends the person's message and follows what it reports until its
 * `result`, an interrupt, or the process going away.
 */
class TurnRun {
  /** Text streamed but not yet recorded as a finished block (kept if the turn is stopped mid-way). */
  private partial = "";
  private recordedBlocks = new Set<string>();
  private calls = new Map<string, { name: string; input: unknown }>();
  private refusals = new Map<string, string>();
  private responses = new Map<string, { model: string; usage: Usage }>();
  private finish: () => void = () => {};

  constructor(
    private turn: Turn,
    private process: ClaudeCodeProcess,
    private session: Session,
    private meteredByGateway: boolean,
    private remember: (claudeSessionId: string) => void,
    /** The kind of the person's credential the API refused since last asked (Pier's gateway saw it), or null. */
    private refusedCredential: () => AnthropicCredential["kind"] | null,
  ) {}

  /**
   * How the turn ended; "unheard" when the process went away, or stayed silent, before saying
   * anything of it.
   */
  async run(text: string): Promise<"done" | "unheard" | "gone"> {
    const { signal } = this.turn;
    const done = new Promise<void>((resolve) => {
      this.finish = resolve;
    });
    this.process.listen((message) => this.handle(message));
    const onAbort = () => void this.interrupt(done);
    signal.addEventListener("abort", onAbort, { once: true });
    const gone = this.process.exited.then(() => "gone" as const);
    let silence: Timer | undefined;
    const silent = new Promise<"silent">((resolve) => (silence = setTimeout(() => resolve("silent"), SILENT_MS)));
    this.process.send({ type: "user", message: { role: "user", content: text }, parent_tool_use_id: null });
    const how = await Promise.race([done.then(() => "done" as const), gone, silent.then((s) => (this.heard ? new Promise<never>(() => {}) : s))]);
    clearTimeout(silence);
    signal.removeEventListener("abort", onAbort);
    this.process.listen(null);
    if (this.partial) this.turn.record({ kind: "assistant", text: this.partial });
    if (how === "silent" && !signal.aborted) {
      this.process.markGone(`it said nothing for ${SILENT_MS / 1000} s after the message`);
      return "unheard";
    }
    if (how !== "gone" || signal.aborted) return "done";
    if (!this.heard) {
      this.process.markGone("it exited");
      return "unheard";
    }
    this.process.markGone("it exited during the turn");
    this.process.told = true;
    this.turn.record({ kind: "error", message: `Claude Code stopped during the turn: ${this.process.problem}. Your message is kept; Pier starts it again with the same conversation at your next message.` });
    return "gone";
  }

  /** Whether the process said anything since this turn's message went to it. */
  private heard = false;

  /** Stop: Claude Code is asked to interrupt; if its turn does not end soon, its process is stopped. */
  private async interrupt(done: Promise<void>): Promise<void> {
    void this.process.request({ subtype: "interrupt" });
    const ended = await Promise.race([done.then(() => true), Bun.sleep(INTERRUPT_GRACE_MS).then(() => false)]);
    if (ended) return;
    await this.process.stop();
    this.finish();
  }

  private handle(message: ClaudeMessage): void {
    this.heard = true;
    if (message.type === "control_request") return void this.controlRequest(message);
    // A subagent's own work stays inside its tool call, as Claude Code's own view keeps it.
    if (message.parent_tool_use_id) return;
    switch (message.type) {
      case "system":
        // Its id as it starts (a kill in the first turn must not lose the conversation), and its waits to ask the API again.
        if (message.subtype === "init" && typeof message.session_id === "string") this.remember(message.session_id);
        else if (message.subtype === "api_retry") this.retrying(message);
        return;
      case "stream_event":
        return this.streamEvent(message.event as StreamEvent);
      case "assistant":
        return this.assistant(message);
      case "user":
        return this.toolResults(message);
      // Its conversation's id, said as it starts on the message: kept at once, so a server killed
      // during this very first turn still resumes it (the conversation is saved in the pod as it goes).
      case "result":
        if (typeof message.session_id === "string") this.remember(message.session_id);
        if (message.is_error === true && !this.turn.signal.aborted && typeof message.result === "string" && message.subtype !== "success") {
          this.turn.record(apiFailure(`Claude Code: ${message.result}`, this.refusedCredential()));
        }
        return this.finish();
    }
  }

  /**
   * Claude Code waits to ask the API again (it was busy, failing or cut off): the person is told,
   * as for Pier's own agent. Claude Code asks for the whole answer again, so the text streamed of
   * the failed try is dropped, not shown twice.
   */
  private retrying(message: ClaudeMessage): void {
    const status = typeof message.error_status === "number" ? message.error_status : null;
    const delayMs = typeof message.retry_delay_ms === "number" ? Math.max(0, message.retry_delay_ms) : 0;
    const attempt = typeof message.attempt === "number" ? message.attempt : 1;
    const discardStreamed = this.partial !== "";
    this.partial = "";
    this.turn.stream({ kind: "retrying", attempt, delayMs, reason: status === null ? "The model service's answer was cut off" : busyReason(status), ...(discardStreamed ? { discardStreamed } : {}) });
  }

  private streamEvent(event: StreamEvent): void {
    if (!event || typeof event !== "object") return;
    if (event.type === "message_start" && event.message?.id) {
      const usage = event.message.usage ?? {};
      this.responses.set(event.message.id, { model: event.message.model ?? "", usage: usageOf(usage) });
      this.current = event.message.id;
    } else if (event.type === "content_block_delta" && event.delta?.type === "text_delta" && typeof event.delta.text === "string") {
      this.partial += event.delta.text;
      this.turn.stream({ kind: "text_delta", text: event.delta.text });
    } else if (event.type === "message_delta" && this.current) {
      const response = this.responses.get(this.current);
      this.responses.delete(this.current);
      this.current = null;
      if (!response || this.meteredByGateway) return;
      const final = event.usage ?? {};
      const usage: Usage = {
        inputTokens: numberOr(final.input_tokens, response.usage.inputTokens),
        outputTokens: numberOr(final.output_tokens, response.usage.outputTokens),
        cacheWriteTokens: numberOr(final.cache_creation_input_tokens, response.usage.cacheWriteTokens),
        cacheReadTokens: numberOr(final.cache_read_input_tokens, response.usage.cacheReadTokens),
      };
      this.turn.recordUsage(response.model || this.session.model || "", usage);
    }
  }

  private current: string | null = null;

  private assistant(message: ClaudeMessage): void {
    const inner = message.message as { id?: string; model?: string; content?: unknown[] } | undefined;
    if (!inner || !Array.isArray(inner.content)) return;
    // Claude Code says an API failure as a made-up assistant message; the chat shows it as an error.
    if (message.error !== undefined || inner.model === "<synthetic>") {
      const said = inner.content.map((block) => (block as { text?: unknown }).text).filter((t) => typeof t === "string").join("\n");
      this.partial = "";
      if (said) this.turn.record(apiFailure(said, this.refusedCredential()));
      return;
    }
    for (const block of inner.content as ContentBlock[]) {
      const key = block.type === "tool_use" ? `tool:${block.id}` : `${inner.id}:${JSON.stringify(block)}`;
      if (this.recordedBlocks.has(key)) continue;
      this.recordedBlocks.add(key);
      if (block.type === "text" && typeof block.text === "string" && block.text) {
        this.partial = "";
        this.turn.record({ kind: "assistant", text: block.text });
      } else if (block.type === "tool_use" && typeof block.id === "string" && typeof block.name === "string") {
        this.calls.set(block.id, { name: block.name, input: block.input });
        const shown = pierCall(block.name, block.input, this.session.worktreePath);
        this.turn.record({ kind: "tool_call", id: block.id, name: shown.name, input: shown.input });
      }
    }
  }

  private toolResults(message: ClaudeMessage): void {
    const content = (message.message as { content?: unknown } | undefined)?.content;
    if (!Array.isArray(content)) return;
    for (const block of content as ContentBlock[]) {
      if (block.type !== "tool_result" || typeof block.tool_use_id !== "string") continue;
      const call = this.calls.get(block.tool_use_id);
      const refusal = this.refusals.get(block.tool_use_id);
      if (refusal !== undefined) {
        this.turn.record({ kind: "tool_result", id: block.tool_use_id, output: refusal, isError: true, refused: true });
        continue;
      }
      const isError = block.is_error === true;
      const diff = !isError && call ? editDiff(call.name, call.input, message.tool_use_result, this.session.worktreePath) : undefined;
      const output = resultText(block.content);
      this.turn.record({ kind: "tool_result", id: block.tool_use_id, output, isError, ...(diff ? { diff } : {}) });
    }
  }

  /**
   * Claude Code asks before a tool runs: the PreToolUse hook for every call, and its permission
   * prompt for anything it still wants to ask about. Both go to the turn's authorize, which
   * applies the tool policy and may wait for a person's answer on the approval card.
   */
  private async controlRequest(message: ClaudeMessage): Promise<void> {
    const requestId = message.request_id;
    const request = message.request as Record<string, unknown> | undefined;
    if (typeof requestId !== "string" || !request) return;
    if (request.subtype === "hook_callback" && request.callback_id === POLICY_HOOK) {
      const input = (request.input ?? {}) as { tool_name?: unknown; tool_input?: unknown; tool_use_id?: unknown };
      const verdict = await this.authorize(input.tool_use_id, input.tool_name, input.tool_input);
      return this.process.respond(requestId, {
        hookSpecificOutput: {
          hookEventName: "PreToolUse",
          permissionDecision: verdict.allowed ? "allow" : "deny",
          ...(verdict.allowed ? {} : { permissionDecisionReason: verdict.reason }),
        },
      });
    }
    if (request.subtype === "can_use_tool") {
      const verdict = await this.authorize(request.tool_use_id, request.tool_name, request.input);
      return this.process.respond(requestId, verdict.allowed ? { behavior: "allow", updatedInput: request.input ?? {} } : { behavior: "deny", message: verdict.reason });
    }
    // Anything else Claude Code asks of its host, Pier does not offer.
    this.process.send({ type: "control_response", response: { subtype: "error", request_id: requestId, error: "Pier does not answer this request." } });
  }

  private async authorize(id: unknown, name: unknown, input: unknown) {
    if (typeof id !== "string" || typeof name !== "string") return { allowed: false as const, reason: "Pier could not tell which tool call this is." };
    if (this.refusals.has(id)) return { allowed: false as const, reason: this.refusals.get(id)! };
    const shown = pierCall(name, input, this.session.worktreePath);
    const verdict = await this.turn.authorize({ id, name: shown.name, input: shown.input });
    if (!verdict.allowed) this.refusals.set(id, verdict.reason);
    return verdict;
  }
}

type StreamEvent = {
  type?: string;
  message?: { id?: string; model?: string; usage?: RawUsage };
  delta?: { type?: string; text?: unknown };
  usage?: RawUsage;
};
type RawUsage = { input_tokens?: unknown; output_tokens?: unknown; cache_creation_input_tokens?: unknown; cache_read_input_tokens?: unknown };
type ContentBlock = { type?: string; text?: unknown; id?: unknown; name?: unknown; input?: unknown; tool_use_id?: unknown; content?: unknown; is_error?: unknown };

function usageOf(raw: RawUsage): Usage {
  return {
    inputTokens: numberOr(raw.input_tokens, 0),
    outputTokens: numberOr(raw.output_tokens, 0),
    cacheWriteTokens: numberOr(raw.cache_creation_input_tokens, 0),
    cacheReadTokens: numberOr(raw.cache_read_input_tokens, 0),
  };
}

function numberOr(value: unknown, fallback: number): number {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : fallback;
}

function hasCredential(env: Record<string, string>): boolean {
  return Boolean(env.ANTHROPIC_API_KEY || env.CLAUDE_CODE_OAUTH_TOKEN || env.ANTHROPIC_AUTH_TOKEN);
}

/**
 * What the person said since Claude Code last answered: their messages after the last turn that
 * began (queued ones are answered together, as Pier's agent answers them), as one message.
 */
export function newMessages(turn: Turn): string {
  const items = turn.items();
  let from = items.length;
  while (from > 0 && items[from - 1]!.kind !== "turn_end") from--;
  return items
    .slice(from)
    .filter((item) => item.kind === "user")
    .map((item) => (item as { text: string }).text)
    .join("\n\n");
}

/**
 * An API failure Claude Code reported, as the chat's error: when the API had refused the person's
 * credential, what to do about it (a new token, or a new key) with the link to where it is saved.
 */
function apiFailure(said: string, refused: AnthropicCredential["kind"] | null): NewChatItem {
  if (refused === "oauth") return { kind: "error", code: "sign_in_expired", message: SIGN_IN_EXPIRED, tokensUrl: TOKENS_URL };
  if (refused === "apiKey") return { kind: "error", code: "key_refused", message: KEY_REFUSED, tokensUrl: TOKENS_URL };
  return { kind: "error", message: said.slice(0, 500) };
}

