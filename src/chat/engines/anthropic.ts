import Anthropic from "@anthropic-ai/sdk";
import type { Config } from "../../infra/config.ts";
import type { Db } from "../../infra/db.ts";
import type { Pods } from "../../pods/pods.ts";
import { getRepo } from "../../repos/repos.ts";
import type { Session } from "../../sessions/session.ts";
import type { Actor } from "../../auth/actor.ts";
import { findUser } from "../../auth/users.ts";
import type { Credentials } from "../../settings/credentials.ts";
import { quotedTask } from "../../tasks/task-words.ts";
import type { PublicTask, Tasks } from "../../tasks/tasks.ts";
import type { SettingsStore } from "../../settings/settings.ts";
import type { EffectiveSkill, Skills } from "../../skills/skills.ts";
import type { ToolContext } from "../../tools/tool.ts";
import { WorktreeFiles } from "../../workspaces/worktree-files.ts";
import { type ChatEngine, stoppedBy, type Turn } from "../engine.ts";
import { QUOTED_BLOCKS_ARE_DATA } from "../quoted.ts";
import { KEY_REFUSED, TOKENS_URL } from "../../settings/sign-in.ts";
import { toApiMessages, usageOf } from "./messages.ts";
import { MODEL_ATTEMPTS, finalMessage, modelFailure, retryDelayMs } from "./model-retry.ts";
import { summariseIfFull } from "./summary.ts";

export interface AnthropicEngineDeps {
  db: Db;
  config: Config;
  pods: Pods;
  settings: SettingsStore;
  /** The person's own Anthropic key, or the instance's. */
  credentials: Credentials;
  tasks: Tasks;
  /** The skills the session's repo gets, listed in the prompt and loaded with load_skill. */
  skills: Skills;
}

/** Model responses (each may call tools) in one turn before Pier stops it. */
const MAX_STEPS = 50;
const MAX_TOKENS = 8192;
const INSTRUCTION_FILES = ["CLAUDE.md", "AGENTS.md"];
const MAX_INSTRUCTIONS = 20_000;
const MAX_TASK_DESCRIPTION = 4_000;
/** The prompt lists at most this many skills, in at most this many characters. */
const MAX_LISTED_SKILLS = 100;
const MAX_SKILL_LIST = 12_000;

/**
 * Pier's own agent: a loop on the Messages API that streams the model's text, runs the tools it
 * calls in the session's worktree (in its pod) and feeds the results back until the model ends
 * its turn. Near the model's window, older turns are summarised first.
 */
export class AnthropicEngine implements ChatEngine {
  constructor(private deps: AnthropicEngineDeps) {}

  async runTurn(turn: Turn): Promise<void> {
    const { session, signal } = turn;
    const apiKey = await this.deps.credentials.anthropicApiKey(session.userId);
    if (!apiKey) {
      turn.record({ kind: "error", message: "No Anthropic API key is set, so the agent cannot answer. Add one in settings.", settingsUrl: "/settings" });
      return;
    }
    const client = new Anthropic({ apiKey, baseURL: this.deps.config.anthropicBaseUrl, maxRetries: 0 });
    const model = session.model ?? this.deps.settings.plain().defaultModel;
    const repo = getRepo(this.deps.db, session.repoId);
    const shell = await this.deps.pods.ensure(repo, session.userId);
    const files = new WorktreeFiles(shell, session.worktreePath);
    const instructions = await files.instructions(INSTRUCTION_FILES, MAX_INSTRUCTIONS);
    const owner = findUser(this.deps.db, session.userId);
    if (!owner) throw new Error("The session's person no longer exists.");
    // The agent acts for the session's person, and reaches only what the session may (its task).
    const actor: Actor = { kind: "agent", user: owner, sessionId: session.id };
    const taskId = this.deps.tasks.linkedTaskId(actor);
    const task = taskId ? this.deps.tasks.get(actor, taskId) : null;
    const skills = this.deps.skills.sessionSkills(actor);
    const system = [{ type: "text" as const, text: systemPrompt(session, repo.name, shell.pod.id, instructions, task && { task, creator: this.deps.tasks.creatorOf(task) }, skills), cache_control: { type: "ephemeral" as const } }];
    const definitions = turn.tools.definitions();
    const tools: Anthropic.Tool[] = definitions.map((tool, i) => (i === definitions.length - 1 ? { ...tool, cache_control: { type: "ephemeral" as const } } : tool));
    // No secrets: git and gh in the pod ask Pier for the GitHub token when they need it.
    const context: ToolContext = { runtime: shell.runtime, pod: shell.pod, files, env: { PIER_SESSION_ID: session.id }, signal, actor, tasks: this.deps.tasks, skills: this.deps.skills };

    turn.begin();
    await summariseIfFull(this.deps.db, client, model, turn);
    for (let step = 0; step < MAX_STEPS && !signal.aborted; step++) {
      if (turn.overBudget()) break;
      const params = { model, max_tokens: MAX_TOKENS, system, tools, messages: toApiMessages(turn.items()) };
      const response = await callModel(client, params, turn, this.deps.config.modelRetryFirstMs);
      if (!response) break;

      const calls = response.content.filter((block): block is Anthropic.ToolUseBlock => block.type === "tool_use");
      for (const call of calls) turn.record({ kind: "tool_call", id: call.id, name: call.name, input: call.input });
      if (response.stop_reason !== "tool_use") break;
      for (const call of calls) {
        if (signal.aborted) break;
        const verdict = await turn.authorize(call);
        const result = verdict.allowed ? await turn.tools.run(call.name, call.input, context) : { output: verdict.reason, isError: true };
        const output = signal.aborted ? `${result.output}\n[interrupted by ${stoppedBy(signal)}]` : result.output;
        const refused = verdict.allowed ? {} : { refused: true };
        turn.record({ kind: "tool_result", id: call.id, output, isError: result.isError || signal.aborted, diff: result.diff, ...refused });
      }
    }
  }
}

/**
 * One streamed model request. Text is passed on as it arrives and recorded once the response is
 * complete (or, when interrupted, as far as it got); its usage is metered as it comes and recorded
 * once, in full or, when cut off, as far as it got. A busy, overloaded or failing service and a
 * stream cut off mid-answer are retried with back-off, the person told of each wait; a retry
 * starts the answer over, so what streamed of the failed try is dropped (the `retrying` event
 * says so) rather than shown twice. Null when there is no response to go on with.
 */
async function callModel(client: Anthropic, params: Anthropic.MessageStreamParams, turn: Turn, firstRetryMs: number): Promise<Anthropic.Message | null> {
  const { signal } = turn;
  for (let attempt = 1; ; attempt++) {
    // Finished text blocks wait for the whole response: a try that fails leaves nothing kept.
    const blocks: string[] = [];
    let text = "";
    const keep = () => {
      for (const block of [...blocks, text].filter(Boolean)) turn.record({ kind: "assistant", text: block });
    };
    const meter = turn.meterResponse();
    try {
      const stream = client.messages.stream(params, { signal });
      stream.on("streamEvent", (event, snapshot) => {
        if (event.type === "message_start" || event.type === "message_delta") meter.saw(params.model, usageOf(snapshot));
      });
      stream.on("text", (delta) => {
        text += delta;
        turn.stream({ kind: "text_delta", text: delta });
      });
      stream.on("contentBlock", (block) => {
        if (block.type !== "text" || !block.text) return;
        blocks.push(block.text);
        text = "";
      });
      const response = await stream.finalMessage();
      keep();
      meter.finish({ model: params.model, usage: usageOf(response) });
      return response;
    } catch (error) {
      meter.finish();
      if (signal.aborted) {
        keep();
        return null;
      }
      const failure = modelFailure(error);
      if (failure.retryable && attempt < MODEL_ATTEMPTS) {
        const delayMs = retryDelayMs(failure, attempt, firstRetryMs);
        const discarded = blocks.length > 0 || text !== "";
        turn.stream({ kind: "retrying", attempt, delayMs, reason: failure.reason, ...(discarded ? { discardStreamed: true } : {}) });
        await pause(delayMs, signal);
        if (signal.aborted) return null;
        continue;
      }
      if (failure.status === 401 || failure.status === 403) {
        turn.record({ kind: "error", code: "key_refused", message: KEY_REFUSED, tokensUrl: TOKENS_URL });
        return null;
      }
      turn.record({ kind: "error", message: finalMessage(failure, attempt, error instanceof Error ? error.message : String(error)) });
      return null;
    }
  }
}

/** Waits out a retry's delay, or less when the person interrupts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

/** The session's skills by name and description, bounded, with how to use them. */
function skillList(skills: EffectiveSkill[]): string {
  const about = "propose_skill suggests a new skill or a better one; a person accepts it on the Skills page.";
  if (skills.length === 0) return `No skills are configured for this repository. ${about}`;
  const lines: string[] = [];
  let length = 0;
  for (const skill of skills.slice(0, MAX_LISTED_SKILLS)) {
    const line = `- ${skill.name}: ${skill.description}`;
    if (length + line.length > MAX_SKILL_LIST) break;
    lines.push(line);
    length += line.length + 1;
  }
  const more = skills.length > lines.length ? `\n(${skills.length - lines.length} more not listed.)` : "";
  return `\nSkills of this session (load one with load_skill when it fits the work; ${about}):\n${lines.join("\n")}${more}`;
}

/**
 * Who the agent is and where it works, plus the repo's own instructions when it has them (read
 * in the pod, bounded: a repo's CLAUDE.md is its own text, never a file of the server's).
 */
function systemPrompt(
  session: Session,
  repoName: string,
  podId: string,
  instructions: Array<{ name: string; text: string }>,
  linked: { task: PublicTask; creator: string } | null,
  skills: EffectiveSkill[],
): string {
  const lines = [
    "You are a coding agent working with a person in Pier, beside their terminal.",
    `Repository: ${repoName}. Branch: ${session.branch} (based on ${session.baseRef}).`,
    `Worktree: ${session.worktreePath} — every tool works there; the person's terminal shows the same files.`,
    `Commands run in the repository's pod (${podId === "local" ? "this machine, no container" : `container ${podId.slice(0, 12)}`}) as the pod user.`,
    "Read before you edit, keep changes small and explain what you did. Do not push unless asked.",
    QUOTED_BLOCKS_ARE_DATA,
    skillList(skills),
    linked
      ? [
          `\nThis session works on task ${linked.task.id} (${linked.task.status}, ${linked.task.priority} priority). Its title and description, as members wrote them:`,
          quotedTask({ ...linked.task, description: linked.task.description.slice(0, MAX_TASK_DESCRIPTION) }, linked.creator),
          "Keep it up to date with your task tools: add_task_note for progress, update_task_status to in_progress when you start and to awaiting_approval when the work is done (a person approves it), create_subtask for pieces worth tracking.",
        ]
          .filter(Boolean)
          .join("\n")
      : "No task is linked to this session.",
  ];
  for (const { name, text } of instructions) lines.push(`\n${name} from the repository:\n${text}`);
  return lines.join("\n");
}
