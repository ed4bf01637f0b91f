import Anthropic from "@anthropic-ai/sdk";
import { lastPromptTokens, recordUsage, type Usage } from "../costs/costs.ts";
import type { Config } from "../infra/config.ts";
import type { Db } from "../infra/db.ts";
import type { Pods } from "../pods/pods.ts";
import { getRepo } from "../repos/repos.ts";
import { WorktreeFiles } from "../workspaces/worktree-files.ts";
import { addSessionCost, type Session, type Sessions } from "../sessions/sessions.ts";
import type { SettingsStore } from "../settings/settings.ts";
import { builtInTools } from "../tools/registry.ts";
import { appendItem, loadItems, type NewChatItem, summaryCut, toApiMessages } from "./conversation.ts";
import type { ServerEvent } from "./protocol.ts";

export interface AgentDeps {
  db: Db;
  config: Config;
  pods: Pods;
  settings: SettingsStore;
  sessions: Sessions;
}

/** Model responses (each may call tools) in one turn before Pier stops it. */
const MAX_STEPS = 50;
const MAX_TOKENS = 8192;
/** Tries for one model request when the API answers 429, 529 or 5xx. */
const ATTEMPTS = 4;
const INSTRUCTION_FILES = ["CLAUDE.md", "AGENTS.md"];
/** When the last prompt was this big, older turns are summarised before the next turn (70% of a 200k window). */
export const SUMMARISE_AT_TOKENS = 140_000;
/** The latest turns always go to the model as they are. */
const KEEP_TURNS = 2;
const SUMMARY_INSTRUCTIONS =
  "Summarise the conversation so far for the coding agent that will continue it: what the person asked for, " +
  "what was decided, which files were read or changed and how, commands that matter and their results, and what " +
  "is still open. Be specific (paths, names, numbers); leave out pleasantries.";
const MAX_INSTRUCTIONS = 20_000;

const ZERO: Usage = { inputTokens: 0, outputTokens: 0, cacheWriteTokens: 0, cacheReadTokens: 0 };

/**
 * The chat agent of one session: a loop on the Messages API that streams the model's text to
 * every viewer, runs the tools it calls in the session's worktree and feeds the results back
 * until the model ends its turn. Every message, call and result is stored as it happens.
 * Messages sent while it works wait their turn; an interrupt stops the request and any command.
 */
export class ChatAgent {
  private listeners = new Set<(event: ServerEvent) => void>();
  private running = false;
  private queued: string[] = [];
  private abort: AbortController | null = null;
  private current: Promise<void> | null = null;

  constructor(
    private deps: AgentDeps,
    readonly sessionId: string,
  ) {}

  /** Sends the history first, then every live event, until the returned function is called. */
  subscribe(listener: (event: ServerEvent) => void): () => void {
    const session = this.deps.sessions.get(this.sessionId);
    listener({
      type: "history",
      messages: loadItems(this.deps.db, this.sessionId),
      running: this.running,
      queued: [...this.queued],
      sessionCostUsd: session.costUsd,
    });
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A user's message: stored at once (it is never lost), answered now or after the current turn. */
  send(text: string): void {
    appendItem(this.deps.db, this.sessionId, { kind: "user", text });
    this.broadcast({ type: "user_message", text, queued: this.running });
    if (this.running) {
      this.queued.push(text);
      return;
    }
    void this.run();
  }

  /**
   * Stops the model request and any running command (the tools watch the signal) and waits for
   * the turn to end, as interrupted, so nothing of it still runs in the worktree afterwards.
   */
  async interrupt(): Promise<void> {
    if (!this.running) return;
    this.abort?.abort();
    await this.current;
  }

  private broadcast(event: ServerEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  private record(item: NewChatItem): void {
    appendItem(this.deps.db, this.sessionId, item);
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      do {
        // Messages queued during the last turn are already stored: one new turn answers them all.
        this.queued = [];
        this.current = this.turn();
        await this.current;
      } while (this.queued.length > 0);
    } finally {
      this.running = false;
    }
  }

  private async turn(): Promise<void> {
    const abort = (this.abort = new AbortController());
    const session = this.deps.sessions.get(this.sessionId);
    const apiKey = await this.deps.settings.secret("anthropicApiKey");
    if (!apiKey) {
      const message = "No Anthropic API key is set, so the agent cannot answer. Add one in settings.";
      this.record({ kind: "error", message });
      this.broadcast({ type: "error", message, settingsUrl: "/settings" });
      return;
    }
    if (session.state !== "active") {
      this.fail(`The session is ${session.state}; the agent only works in an active session.`);
      return;
    }
    const client = new Anthropic({ apiKey, baseURL: this.deps.config.anthropicBaseUrl, maxRetries: 0 });
    const model = session.model ?? this.deps.settings.plain().defaultModel;
    const repo = getRepo(this.deps.db, session.repoId);
    const shell = await this.deps.pods.ensure(repo, session.userId);
    const files = new WorktreeFiles(shell, session.worktreePath);
    const instructions = await files.instructions(INSTRUCTION_FILES, MAX_INSTRUCTIONS);
    const system = [{ type: "text" as const, text: systemPrompt(session, repo.name, shell.pod.id, instructions), cache_control: { type: "ephemeral" as const } }];
    const definitions = builtInTools.definitions();
    const tools: Anthropic.Tool[] = definitions.map((tool, i) => (i === definitions.length - 1 ? { ...tool, cache_control: { type: "ephemeral" as const } } : tool));

    this.broadcast({ type: "turn_start" });
    const usage = { ...ZERO };
    let costUsd = 0;
    const record = (used: Usage) => {
      for (const key of Object.keys(used) as Array<keyof Usage>) usage[key] += used[key];
      costUsd += recordUsage(this.deps.db, { sessionId: session.id, userId: session.userId, repoId: session.repoId, model, usage: used }, addSessionCost);
    };
    await this.summariseIfFull(client, model, record, abort.signal);
    for (let step = 0; step < MAX_STEPS && !abort.signal.aborted; step++) {
      const params = { model, max_tokens: MAX_TOKENS, system, tools, messages: toApiMessages(loadItems(this.deps.db, this.sessionId)) };
      const response = await this.callModel(client, params, abort.signal);
      if (!response) break;
      record(usageOf(response));

      const calls = response.content.filter((block): block is Anthropic.ToolUseBlock => block.type === "tool_use");
      for (const call of calls) {
        this.record({ kind: "tool_call", id: call.id, name: call.name, input: call.input });
        this.broadcast({ type: "tool_call", id: call.id, name: call.name, input: call.input });
      }
      if (response.stop_reason !== "tool_use") break;
      for (const call of calls) {
        if (abort.signal.aborted) break;
        const result = await builtInTools.run(call.name, call.input, {
          runtime: shell.runtime,
          pod: shell.pod,
          files,
          // No secrets: git and gh in the pod ask Pier for the GitHub token when they need it.
          env: { PIER_SESSION_ID: session.id },
          signal: abort.signal,
        });
        const output = abort.signal.aborted ? `${result.output}\n[interrupted by the user]` : result.output;
        this.record({ kind: "tool_result", id: call.id, output, isError: result.isError || abort.signal.aborted, diff: result.diff });
        this.broadcast({ type: "tool_result", id: call.id, output, isError: result.isError || abort.signal.aborted, diff: result.diff });
      }
    }
    const interrupted = abort.signal.aborted;
    this.record({ kind: "turn_end", usage, costUsd, interrupted });
    this.broadcast({ type: "turn_end", usage, costUsd, sessionCostUsd: this.deps.sessions.get(this.sessionId).costUsd, interrupted });
  }

  /**
   * One streamed model request. Text is passed on as it arrives and stored when complete (or,
   * when interrupted, as far as it got). 429, 529 and 5xx answers are retried with back-off;
   * other failures end the turn with a message. Null when there is no response to go on with.
   */
  private async callModel(client: Anthropic, params: Anthropic.MessageStreamParams, signal: AbortSignal): Promise<Anthropic.Message | null> {
    for (let attempt = 1; ; attempt++) {
      let text = "";
      try {
        const stream = client.messages.stream(params, { signal });
        stream.on("text", (delta) => {
          text += delta;
          this.broadcast({ type: "text_delta", text: delta });
        });
        stream.on("contentBlock", (block) => {
          if (block.type !== "text" || !block.text) return;
          this.record({ kind: "assistant", text: block.text });
          this.broadcast({ type: "assistant_message", text: block.text });
          text = "";
        });
        return await stream.finalMessage();
      } catch (error) {
        if (signal.aborted) {
          if (text) {
            this.record({ kind: "assistant", text });
            this.broadcast({ type: "assistant_message", text });
          }
          return null;
        }
        const status = error instanceof Anthropic.APIError ? error.status : undefined;
        const retryable = status === 429 || status === 529 || (status !== undefined && status >= 500);
        if (retryable && attempt < ATTEMPTS) {
          const retryAfter = Number((error as InstanceType<typeof Anthropic.APIError>).headers?.get?.("retry-after"));
          const delayMs = Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter * 1000 : 1000 * 2 ** (attempt - 1);
          this.broadcast({ type: "retrying", attempt, delayMs, reason: `The model API answered ${status}.` });
          await Bun.sleep(delayMs);
          if (signal.aborted) return null;
          continue;
        }
        this.fail(apiErrorMessage(error, status), status === 401 || status === 403 ? "/settings" : undefined);
        return null;
      }
    }
  }

  /**
   * Keeps the conversation within the model's window: when the last prompt was big, the turns
   * before the latest few are replaced, for the model only, by a summary the model writes. The
   * history keeps every item, and the latest turns always go as they are.
   */
  private async summariseIfFull(client: Anthropic, model: string, record: (used: Usage) => void, signal: AbortSignal): Promise<void> {
    if (lastPromptTokens(this.deps.db, this.sessionId) < SUMMARISE_AT_TOKENS) return;
    const items = loadItems(this.deps.db, this.sessionId);
    const cut = summaryCut(items, KEEP_TURNS);
    if (cut === null) return;
    const previous = items.findLast((item) => item.kind === "summary");
    const earlier = [
      ...(previous?.kind === "summary" ? [{ ...previous, keepFrom: 0 }] : []),
      ...items.slice(previous?.kind === "summary" ? previous.keepFrom : 0, cut).filter((item) => item.kind !== "summary"),
    ];
    const messages = toApiMessages(earlier);
    const ask: Anthropic.TextBlockParam = { type: "text", text: SUMMARY_INSTRUCTIONS };
    const last = messages.at(-1);
    if (last?.role === "user") (last.content as Anthropic.ContentBlockParam[]).push(ask);
    else messages.push({ role: "user", content: [ask] });
    try {
      const response = await client.messages.create({ model, max_tokens: 4096, messages }, { signal });
      record(usageOf(response));
      const text = response.content.flatMap((block) => (block.type === "text" ? [block.text] : [])).join("\n");
      this.record({ kind: "summary", text, keepFrom: cut });
      this.broadcast({ type: "summary", text });
    } catch (error) {
      // The turn goes on with the full conversation; the API will say if it is too long.
      console.error(`[pier] summarising session ${this.sessionId} failed:`, error instanceof Error ? error.message : error);
    }
  }

  private fail(message: string, settingsUrl?: string): void {
    this.record({ kind: "error", message });
    this.broadcast({ type: "error", message, ...(settingsUrl ? { settingsUrl } : {}) });
  }
}

function usageOf(response: Anthropic.Message): Usage {
  return {
    inputTokens: response.usage.input_tokens,
    outputTokens: response.usage.output_tokens,
    cacheWriteTokens: response.usage.cache_creation_input_tokens ?? 0,
    cacheReadTokens: response.usage.cache_read_input_tokens ?? 0,
  };
}

function apiErrorMessage(error: unknown, status: number | undefined): string {
  if (status === 401 || status === 403) return "The Anthropic API refused the key. Check it in settings.";
  if (status === 429 || status === 529) return `The model API is overloaded or rate-limited (${status}) and kept refusing after ${ATTEMPTS} tries. Your message is kept; send another to try again.`;
  const detail = error instanceof Error ? error.message : String(error);
  return `The model request failed${status ? ` (${status})` : ""}: ${detail.slice(0, 300)}. Your message is kept.`;
}

/**
 * Who the agent is and where it works, plus the repo's own instructions when it has them (read
 * in the pod, bounded: a repo's CLAUDE.md is its own text, never a file of the server's).
 */
function systemPrompt(session: Session, repoName: string, podId: string, instructions: Array<{ name: string; text: string }>): string {
  const lines = [
    "You are a coding agent working with a person in Pier, beside their terminal.",
    `Repository: ${repoName}. Branch: ${session.branch} (based on ${session.baseRef}).`,
    `Worktree: ${session.worktreePath} — every tool works there; the person's terminal shows the same files.`,
    `Commands run in the repository's pod (${podId === "local" ? "this machine, no container" : `container ${podId.slice(0, 12)}`}) as the pod user.`,
    "Read before you edit, keep changes small and explain what you did. Do not push unless asked.",
    "No skills are configured.",
  ];
  for (const { name, text } of instructions) lines.push(`\n${name} from the repository:\n${text}`);
  return lines.join("\n");
}
