import type * as acp from "@agentclientprotocol/sdk";
import { eq } from "drizzle-orm";
import type { Agent } from "../../agents/agents.ts";
import type { AgentLaunch } from "../../agents/agent-supply.ts";
import type { GatewayEnv, RefusalSaid } from "../../gateway/gateway.ts";
import type { ModelServiceName } from "../../gateway/model-service.ts";
import type { Db } from "../../infra/db.ts";
import { errorMessage } from "../../infra/errors.ts";
import type { Pods } from "../../pods/pods.ts";
import { getRepo } from "../../repos/repos.ts";
import type { PodPlace } from "../../runtime/noted-process.ts";
import type { PodKey } from "../../runtime/runtime.ts";
import type { Session } from "../../sessions/session.ts";
import { sessions } from "../../sessions/tables.ts";
import type { SettingsStore } from "../../settings/settings.ts";
import { TOKENS_URL } from "../../settings/sign-in.ts";
import type { PodShell } from "../../workspaces/pod-script.ts";
import type { ChatEngine, Turn, Verdict } from "../engine.ts";
import { agentArgs } from "./acp-agent-args.ts";
import { agentEnv } from "./acp-agent-env.ts";
import { AcpProcess } from "./acp-process.ts";
import { acpDiff, acpResultText, acpToolInput, acpToolName, planText } from "./acp-tools.ts";
import { newMessages } from "./claude-code.ts";

export interface AcpEngineDeps {
  db: Db;
  pods: Pods;
  settings: SettingsStore;
  agents: {
    get(id: string): Agent | null;
    launchFor(agentId: string, key: PodKey, shell: PodShell): Promise<AgentLaunch>;
  };
  /**
   * The session's MCP servers as ACP's stdio servers (every agent takes those): no secret is in
   * them, as none is in the .mcp.json Claude Code reads.
   */
  mcpServers(session: Session): acp.McpServerStdio[];
  /** The environment that points the agent's process at Pier's gateway for its model service. */
  gatewayEnv(session: Session, service: ModelServiceName): Promise<GatewayEnv>;
  /** Whether the gateway refused the session's person's credential (or they had none) since last asked, in Pier's words. */
  refusal(sessionId: string): RefusalSaid | null;
}

/** After an interrupt, the agent has this long to end its turn (ACP's cancel) before its process is stopped. */
const INTERRUPT_GRACE_MS = 10_000;
/**
 * A loaded session's replay has ended once the agent has been this quiet (Gemini CLI answers
 * session/load first and replays the conversation after, where ACP says before), waiting at most
 * the second figure; the replay is not listened to, so a turn never takes it for its own.
 */
const REPLAY_QUIET_MS = 300;
const REPLAY_MAX_MS = 10_000;
/** Starting the agent and its ACP session (initialize, then new or load) takes at most this long. */
const START_TIMEOUT_MS = 120_000;

interface Live {
  process: AcpProcess;
  /** The agent's own session id, which prompts and cancels name. */
  acpSessionId: string;
  /** What the process was started with; a change (another agent, program, key or model) starts a new one. */
  fingerprint: string;
  /** How it was started, and for which definition of the agent in which pod: a later turn there needs no new look in the pod. */
  launch?: { command: string[]; env: Record<string, string>; for: string };
}

/**
 * A coding agent that speaks the Agent Client Protocol (opencode, Gemini CLI, Codex or Claude
 * Code through their ACP modes or adapters) as the chat's engine: one long-lived process per
 * session in its pod, in its worktree, as the pod user, started as pier.agents says and pointed at
 * Pier's gateway for its model service (so its requests are metered and budgeted as Claude Code's
 * are). Each turn sends the person's new messages as one prompt and maps the agent's session
 * updates onto Pier's chat items (streamed text, tool calls with their inputs, results with their
 * diffs), so the page, history and transcript cannot tell the engines apart. Every permission the
 * agent asks goes to the turn's `authorize`: the tool policy, and its approval card. The agent's
 * session id is kept with the session; a new process loads it where the agent can. The session's
 * MCP servers are given to the agent with its session.
 */
export class AcpEngine implements ChatEngine {
  private live = new Map<string, Live>();

  constructor(private deps: AcpEngineDeps) {}

  async runTurn(turn: Turn): Promise<void> {
    const { session } = turn;
    const agent = session.agent ? this.deps.agents.get(session.agent) : null;
    if (!agent) {
      turn.record({ kind: "error", message: `The agent ${session.agent ?? "(none)"} this session runs is not defined any more; an admin may have removed it. Start a session with another agent.` });
      return;
    }
    const text = newMessages(turn);
    if (!text) return;
    const model = session.model ?? this.deps.settings.plain().defaultModel;
    const key = { repoId: session.repoId, userId: session.userId };
    const shell = await this.deps.pods.ensure(getRepo(this.deps.db, session.repoId), session.userId);
    turn.begin();
    // Finding how to start the agent looks in the pod (a docker exec): a later turn to the agent running there reuses what its start found.
    const launchedFor = JSON.stringify([agent, shell.pod.id]);
    const running = this.live.get(session.id);
    const known = running && !running.process.ended && running.launch?.for === launchedFor ? running.launch : null;
    const launch = known ?? (await this.launched(agent, key, shell, turn.signal));
    if ("unavailable" in launch) {
      if (!turn.signal.aborted) turn.record({ kind: "error", message: `${agent.name} cannot start in your pod: ${launch.unavailable}` });
      return;
    }
    const gateway = agent.service === "none" ? { env: {}, meteredByGateway: false, notice: null } : await this.deps.gatewayEnv(session, agent.service);
    const env = { ...launch.env, ...gateway.env, ...agentEnv(agent, model, gateway.env, shell.cwd) };
    const place: PodPlace = { runtime: shell.runtime, pod: shell.pod, cwd: session.worktreePath };
    const command = [...launch.command, ...agentArgs(agent, model, gateway.env)];
    const live = await this.liveFor(session, agent, place, command, env, this.deps.mcpServers(session), turn);
    if (!live) return;
    live.launch = { command: launch.command, env: launch.env, for: launchedFor };
    this.deps.refusal(session.id);
    await new AcpTurn(turn, live, agent).run(text);
    // What the agent makes of a refused credential blames its own key (the gateway's token): Pier says whose, and what to do.
    const refused = this.deps.refusal(session.id);
    if (refused) turn.record({ kind: "error", code: refused.code, message: refused.message, tokensUrl: TOKENS_URL });
    if (live.process.ended) {
      this.live.delete(session.id);
      await live.process.stop();
    }
  }

  /** The session ends: its agent's process stops (a resumed session starts another, loading its conversation). */
  async stop(sessionId: string): Promise<void> {
    const live = this.live.get(sessionId);
    this.live.delete(sessionId);
    await live?.process.stop();
  }

  /**
   * At start-up, before sessions resume: the agent processes a server before this one started are
   * ended in their pods. An ACP agent outlives its turns, so any live session of this engine may
   * have one; nobody speaks to it again (the session's next message starts another), and left
   * alone it would hold its pod's memory, or carry on with a turn a killed server cut off, asking
   * the model through the gateway. A pod that is not running has none.
   */
  async stopLeftovers(sessions: Session[]): Promise<void> {
    await Promise.all(
      sessions.map(async (session) => {
        const agent = session.agent ? this.deps.agents.get(session.agent) : null;
        // Only a noted process running the agent's program is ended, never whatever reused its id.
        const program = agent?.program ?? agent?.command;
        try {
          const shell = program ? await this.deps.pods.runningShell({ repoId: session.repoId, userId: session.userId }) : null;
          if (shell) await AcpProcess.stopLeftovers({ runtime: shell.runtime, pod: shell.pod, cwd: session.worktreePath }, session.id, program!);
        } catch (error) {
          console.error(`[pier] the agent left running by the last server in session ${session.id} could not be stopped: ${errorMessage(error)}`);
        }
      }),
    );
  }

  /** Server shutdown: every agent process stops. */
  async stopAll(): Promise<void> {
    await Promise.all([...this.live.keys()].map((id) => this.stop(id)));
  }

  /** How to start the agent, once a fetch of its package under way has ended (the first on a machine downloads it). */
  private async launched(agent: Agent, key: PodKey, shell: PodShell, signal: AbortSignal): Promise<AgentLaunch> {
    let launch = await this.deps.agents.launchFor(agent.id, key, shell);
    while ("unavailable" in launch && launch.ready && !signal.aborted) {
      const aborted = new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
      await Promise.race([launch.ready.catch(() => undefined), aborted]);
      launch = await this.deps.agents.launchFor(agent.id, key, shell);
    }
    return launch;
  }

  /**
   * The session's running agent, or a new one with its ACP session: the saved one loaded where the
   * agent can load sessions, else a new one (and the person told the agent does not remember). An
   * agent that went away by itself is told to the person once.
   */
  private async liveFor(session: Session, agent: Agent, place: PodPlace, command: string[], env: Record<string, string>, mcpServers: acp.McpServer[], turn: Turn): Promise<Live | null> {
    // An agent takes its MCP servers once, with its session: a change to them starts it again.
    const fingerprint = JSON.stringify([agent.id, command, env, place.pod.id, session.worktreePath, mcpServers]);
    const running = this.live.get(session.id);
    if (running && !running.process.ended && running.fingerprint === fingerprint) return running;
    const stopped = running?.process.problem && !running.process.told ? `${agent.name} stopped: ${running.process.problem}.` : null;
    if (running) {
      this.live.delete(session.id);
      await running.process.stop();
    }
    if (!running) await AcpProcess.stopLeftovers(place, session.id, command[0]!);
    let process: AcpProcess;
    try {
      process = await AcpProcess.start(place, session.id, command, env);
    } catch (error) {
      turn.record({ kind: "error", message: `${agent.name} could not be started in the pod: ${errorMessage(error)}` });
      return null;
    }
    void process.exited.then(() => process.markGone("it exited"));
    try {
      const acpSessionId = await withTimeout(this.openSession(session, agent, place, process, mcpServers, stopped, turn), START_TIMEOUT_MS, `${agent.name} did not start its ACP session within ${START_TIMEOUT_MS / 1000} s`);
      const live = { process, acpSessionId, fingerprint };
      this.live.set(session.id, live);
      return live;
    } catch (error) {
      const said = process.stderrTail();
      await process.stop();
      turn.record({ kind: "error", message: `${agent.name} did not start in the pod: ${errorMessage(error)}${said ? ` (it said: ${said.slice(0, 500)})` : ""}` });
      return null;
    }
  }

  private async openSession(session: Session, agent: Agent, place: PodPlace, process: AcpProcess, mcpServers: acp.McpServer[], stopped: string | null, turn: Turn): Promise<string> {
    const { agent: peer } = process.connection;
    const init = await peer.request("initialize", {
      protocolVersion: (await import("@agentclientprotocol/sdk")).PROTOCOL_VERSION,
      clientCapabilities: { fs: { readTextFile: false, writeTextFile: false }, terminal: false },
      clientInfo: { name: "pier", version: "1" },
    });
    const saved = this.deps.db.select({ id: sessions.acpSessionId }).from(sessions).where(eq(sessions.id, session.id)).get()?.id ?? null;
    const request: acp.NewSessionRequest = { cwd: place.cwd, mcpServers };
    if (saved && init.agentCapabilities?.loadSession) {
      try {
        // What it replays of the conversation is not listened to: the chat has it already.
        await peer.request("session/load", { ...request, sessionId: saved });
        await process.quiet(REPLAY_QUIET_MS, REPLAY_MAX_MS);
        if (stopped) turn.record({ kind: "error", message: `${stopped} Pier started it again; the conversation goes on where it was.` });
        return saved;
      } catch (error) {
        turn.record({
          kind: "error",
          message: `${stopped ? `${stopped} ` : ""}${agent.name} could not load its saved conversation (${errorMessage(error)}), so it starts a new one: it does not remember what was said above, which this chat keeps.`,
        });
        stopped = null;
      }
    } else if (saved) {
      turn.record({ kind: "error", message: `${stopped ? `${stopped} ` : ""}${agent.name} cannot load a saved conversation, so it starts a new one: it does not remember what was said above, which this chat keeps.` });
      stopped = null;
    }
    if (stopped) turn.record({ kind: "error", message: `${stopped} Pier started it again.` });
    const created = await peer.request("session/new", request);
    this.deps.db.update(sessions).set({ acpSessionId: created.sessionId }).where(eq(sessions.id, session.id)).run();
    return created.sessionId;
  }
}

/** One tool call as the agent has told of it so far. */
interface CallSeen {
  name: string;
  input: unknown;
  /** Its tool_call item is in the chat (the call is recorded once its input is known). */
  recorded: boolean;
  /** Its result is in the chat (a refused call's as soon as it is refused). */
  done: boolean;
  /** The change it said it would make (opencode shows a write's only with its permission request), for a result that reports none. */
  diff?: string;
}

/**
 * One turn of an ACP agent's: sends the person's message as a prompt and follows the agent's
 * updates until the prompt's answer, an interrupt (ACP's cancel) or the process going away.
 */
class AcpTurn {
  /** Text streamed but not yet recorded as a finished block. */
  private partial = "";
  /** What the agent has thought since it last said or did something (its thought is kept whole, not streamed). */
  private thought = "";
  private calls = new Map<string, CallSeen>();
  private refusals = new Map<string, string>();

  constructor(
    private turn: Turn,
    private live: Live,
    private agent: Agent,
  ) {}

  async run(text: string): Promise<void> {
    const { process, acpSessionId } = this.live;
    const { signal } = this.turn;
    process.listen({ update: (update) => this.update(update), permission: (request) => this.permission(request) });
    const prompt = process.connection.agent.request("session/prompt", { sessionId: acpSessionId, prompt: [{ type: "text", text }] });
    const done = prompt.catch(() => undefined);
    const onAbort = () => void this.interrupt(done);
    signal.addEventListener("abort", onAbort, { once: true });
    const outcome = await Promise.race([prompt.then((answer) => answer, (error: unknown) => error), process.exited.then(() => "gone" as const)]);
    signal.removeEventListener("abort", onAbort);
    process.listen(null);
    this.flush();
    if (outcome === "gone" || (outcome instanceof Error && process.ended)) {
      if (signal.aborted && !process.problem) return;
      process.markGone("it exited during the turn");
      process.told = true;
      this.turn.record({ kind: "error", message: `${this.agent.name} stopped during the turn: ${process.problem}. Your message is kept; Pier starts it again at your next message.` });
      return;
    }
    if (outcome instanceof Error) {
      if (!signal.aborted) this.turn.record({ kind: "error", message: `${this.agent.name}: ${errorMessage(outcome).slice(0, 500)}` });
    }
  }

  /** Stop: the agent is told ACP's cancel; if its turn does not end soon, its process is stopped. */
  private async interrupt(done: Promise<unknown>): Promise<void> {
    void this.live.process.connection.agent.notify("session/cancel", { sessionId: this.live.acpSessionId }).catch(() => undefined);
    const ended = await Promise.race([done.then(() => true), Bun.sleep(INTERRUPT_GRACE_MS).then(() => false)]);
    if (!ended) await this.live.process.stop();
  }

  /** What the agent thought and streamed so far, each kept as its block (before a tool call, and at the turn's end). */
  private flush(): void {
    this.flushThought();
    if (!this.partial) return;
    this.turn.record({ kind: "assistant", text: this.partial });
    this.partial = "";
  }

  /**
   * The agent's thought so far, kept as a call of the `think` tool with the thought as its input
   * (ACP's own kind for a tool call that thinks): Claude Code's engine keeps no thinking, so a
   * thought takes the item that shows it folded under one line on the page, in the history and
   * in the transcript alike, apart from the answer.
   */
  private flushThought(): void {
    if (!this.thought) return;
    const id = `think-${crypto.randomUUID()}`;
    this.turn.record({ kind: "tool_call", id, name: "think", input: { thought: this.thought } });
    this.turn.record({ kind: "tool_result", id, output: "", isError: false });
    this.thought = "";
  }

  private update(update: acp.SessionUpdate): void {
    switch (update.sessionUpdate) {
      case "agent_thought_chunk":
        if (update.content.type !== "text" || !update.content.text) return;
        if (this.partial) this.flush();
        this.thought += update.content.text;
        return;
      case "agent_message_chunk":
        if (update.content.type !== "text" || !update.content.text) return;
        this.flushThought();
        this.partial += update.content.text;
        this.turn.stream({ kind: "text_delta", text: update.content.text });
        return;
      case "tool_call":
      case "tool_call_update":
        return this.toolCall(update.toolCallId, update);
      case "plan":
        return this.plan(update.entries);
    }
  }

  /**
   * The agent's plan, whole each time it changes, kept as Claude Code's engine keeps Claude
   * Code's to-do list: a call (here named `plan`) with the entries as its input, and the list as
   * its result, so the page, history and transcript show it as they show that.
   */
  private plan(entries: acp.PlanEntry[]): void {
    this.flush();
    const id = `plan-${crypto.randomUUID()}`;
    const todos = entries.map(({ content, status, priority }) => ({ content, status, priority }));
    this.turn.record({ kind: "tool_call", id, name: "plan", input: { todos } });
    this.turn.record({ kind: "tool_result", id, output: planText(entries), isError: false });
  }

  /**
   * What the agent says of a tool call: its name first (opencode's comes alone, its input in the
   * next update), then its input, then its end. The call is shown once it runs (or asks
   * permission, or ends), with the input known by then, and its result once it ends.
   */
  private toolCall(id: string, update: acp.ToolCallUpdate): void {
    const call = this.seen(id, update);
    call.diff = acpDiff(update.content, this.turn.session.worktreePath) ?? call.diff;
    // Shown once it runs (or asks first, or ends): a pending call's input may not be whole yet (opencode's bash gives only its cwd).
    if (!call.recorded && update.status && update.status !== "pending") this.recordCall(id, call);
    if (call.done || (update.status !== "completed" && update.status !== "failed")) return;
    call.done = true;
    const isError = update.status === "failed";
    const diff = isError ? undefined : call.diff;
    this.turn.record({ kind: "tool_result", id, output: acpResultText(update.content, update.rawOutput), isError, ...(diff ? { diff } : {}) });
  }

  /** The call as told so far, with what this update adds: its name first, its input once the agent gives it. */
  private seen(id: string, update: acp.ToolCallUpdate): CallSeen {
    let call = this.calls.get(id);
    if (!call) {
      call = { name: acpToolName(update, this.agent.package), input: {}, recorded: false, done: false };
      this.calls.set(id, call);
    }
    const input = acpToolInput(update, this.turn.session.worktreePath, call.name);
    if (hasInput(input) && (hasInput(update.rawInput) || !hasInput(call.input))) call.input = input;
    return call;
  }

  private recordCall(id: string, call: CallSeen): void {
    this.flush();
    call.recorded = true;
    this.turn.record({ kind: "tool_call", id, name: call.name, input: call.input });
  }

  /**
   * The agent asks before a tool runs: the turn's authorize decides (the tool policy, and its
   * approval card for `ask`), and the agent is given the option of the same kind, once.
   */
  private async permission(request: acp.RequestPermissionRequest): Promise<acp.RequestPermissionResponse> {
    const { toolCallId } = request.toolCall;
    const call = this.seen(toolCallId, request.toolCall);
    call.diff = acpDiff(request.toolCall.content, this.turn.session.worktreePath) ?? call.diff;
    if (!call.recorded) this.recordCall(toolCallId, call);
    const verdict: Verdict = this.refusals.has(toolCallId)
      ? { allowed: false, reason: this.refusals.get(toolCallId)! }
      : await this.turn.authorize({ id: toolCallId, name: call.name, input: call.input });
    if (this.turn.signal.aborted) return { outcome: { outcome: "cancelled" } };
    if (!verdict.allowed) {
      this.refusals.set(toolCallId, verdict.reason);
      // Said now: not every agent reports a refused call's end (Gemini CLI only tells the model).
      if (!call.done) {
        call.done = true;
        this.turn.record({ kind: "tool_result", id: toolCallId, output: verdict.reason, isError: true, refused: true });
      }
    }
    const kinds = verdict.allowed ? ["allow_once", "allow_always"] : ["reject_once", "reject_always"];
    const option = kinds.map((kind) => request.options.find((o) => o.kind === kind)).find((o) => o !== undefined);
    return option ? { outcome: { outcome: "selected", optionId: option.optionId } } : { outcome: { outcome: "cancelled" } };
  }
}

function hasInput(input: unknown): boolean {
  return input !== null && typeof input === "object" && Object.keys(input).length > 0;
}

async function withTimeout<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: Timer | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)));
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}
