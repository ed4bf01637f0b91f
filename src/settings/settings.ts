import { eq, inArray } from "drizzle-orm";
import { CLAUDE_CODE_VERSION_PATTERN, DEFAULT_CLAUDE_CODE_VERSION } from "../claude-code/package.ts";
import type { Config } from "../infra/config.ts";
import type { Db } from "../infra/db.ts";
import { invalid } from "../infra/errors.ts";
import { type Input, readInput } from "../infra/input.ts";
import { type ToolPolicy, ToolPolicyInput, checkPolicy } from "../policies/policy.ts";
import { newId } from "../infra/ids.ts";
import { type Actor, assertAdmin } from "../auth/actor.ts";
import type { SecretBox } from "../infra/secret-box.ts";
import type { AuditLog } from "../audit/audit-log.ts";
import { isModelId } from "./model-id.ts";
import { settings } from "./tables.ts";
import { CHAT_ENGINES, type ChatEngineName } from "../sessions/tables.ts";

/**
 * Instance-wide settings. Secrets are sealed before they are stored and are never handed back
 * to a client: reads show a mask and where the value comes from (settings or the environment).
 * Plain settings are stored as text and parsed by their definition below.
 */
export const SECRET_KEYS = ["anthropicApiKey", "claudeCodeOauthToken", "openaiApiKey", "geminiApiKey", "githubToken", "githubWebhookSecret"] as const;
export type SecretKey = (typeof SECRET_KEYS)[number];

const SECRET_LABELS: Record<SecretKey, string> = {
  anthropicApiKey: "Anthropic API key",
  claudeCodeOauthToken: "Claude Code OAuth token",
  openaiApiKey: "OpenAI API key",
  geminiApiKey: "Gemini API key",
  githubToken: "GitHub token",
  githubWebhookSecret: "GitHub webhook secret",
};
const ENV_FALLBACK: Record<SecretKey, (config: Config) => string | null> = {
  anthropicApiKey: (config) => config.anthropicApiKey,
  claudeCodeOauthToken: () => null,
  openaiApiKey: (config) => config.openaiApiKey,
  geminiApiKey: (config) => config.geminiApiKey,
  githubToken: (config) => config.githubToken,
  githubWebhookSecret: () => null,
};

export const DEFAULT_MODEL = "claude-sonnet-4-6";
const MAX_SECRET_LENGTH = 1000;

interface PlainSetting<T> {
  default: T;
  /** Set when null or "" means "none": the stored value is removed and the default (null) applies. */
  clearable?: true;
  /** The value, or a sentence saying what is wrong with it. */
  parse(raw: unknown): T | { problem: string };
}

function numberSetting(label: string, fallback: number, min: number, max: number, integer = true): PlainSetting<number> {
  return {
    default: fallback,
    parse(raw) {
      const value = typeof raw === "number" ? raw : typeof raw === "string" && raw.trim() !== "" ? Number(raw) : NaN;
      if (!Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
        return { problem: `${label} must be ${integer ? "a whole number" : "a number"} from ${min} to ${max}.` };
      }
      return value;
    },
  };
}

function booleanSetting(label: string, fallback: boolean): PlainSetting<boolean> {
  return {
    default: fallback,
    parse: (raw) =>
      raw === true || raw === "true" || raw === "1"
        ? true
        : raw === false || raw === "false" || raw === "0"
          ? false
          : { problem: `${label} must be true or false.` },
  };
}

/** An amount in USD above 0, or (cleared) none. */
function amountSetting(label: string): PlainSetting<number | null> {
  return {
    default: null,
    clearable: true,
    parse: (raw) => {
      const value = typeof raw === "number" ? raw : typeof raw === "string" && /^\s*\d+(\.\d+)?\s*$/.test(raw) ? Number(raw) : NaN;
      return Number.isFinite(value) && value > 0 && value <= 10_000_000
        ? Math.round(value * 100) / 100
        : { problem: `${label} must be an amount in USD above 0 and at most 10000000, or empty for none.` };
    },
  };
}

/**
 * What an unattended run's agent may call: stricter than an interactive session's allow_all. Its
 * worktree's tools and shell run (the pod is its sandbox, and it must commit its work); anything
 * else, above all MCP servers' tools, which reach outside the pod with their own credentials, is
 * asked about, and unanswered within runApprovalMinutes is refused.
 */
export const DEFAULT_RUN_TOOL_POLICY: ToolPolicy = {
  mode: "custom",
  allowed: [
    ...["read_file", "write_file", "edit_file", "list_files", "search", "bash", "load_skill"],
    ...["get_my_task", "update_task_status", "add_task_note", "create_subtask", "list_tasks"],
    // Claude Code's own names for the same work.
    ...["Read", "Write", "Edit", "MultiEdit", "Glob", "Grep", "LS", "Bash", "TodoWrite"],
    // An ACP agent's: opencode's, and the kinds of ACP an agent that names no tool is known by (Gemini CLI).
    ...["read", "edit", "write", "glob", "grep", "list", "todowrite"],
    ...["delete", "move", "search", "execute"],
  ],
  denied: [],
  ask: [],
};

/** A tool policy given as its JSON text (as stored) or as an object (as PUT /api/settings takes it). */
function toolPolicySetting(label: string, fallback: ToolPolicy): PlainSetting<ToolPolicy> {
  return {
    default: fallback,
    parse(raw) {
      let input: unknown = raw;
      if (typeof raw === "string") {
        try {
          input = JSON.parse(raw);
        } catch {
          return { problem: `${label} must be a tool policy: {mode, allowed, denied, ask}.` };
        }
      }
      try {
        return checkPolicy(readInput(ToolPolicyInput, input));
      } catch (error) {
        return { problem: `${label}: ${error instanceof Error ? error.message : String(error)}` };
      }
    },
  };
}

export const MERGE_METHODS = ["squash", "merge", "rebase"] as const;
export type MergeMethod = (typeof MERGE_METHODS)[number];

const PLAIN = {
  defaultModel: {
    default: DEFAULT_MODEL as string,
    parse: (raw: unknown) =>
      isModelId(raw) ? raw : { problem: "Default model must be a model id such as claude-sonnet-4-6." },
  } satisfies PlainSetting<string>,
  podMemoryMb: numberSetting("Pod memory (MiB)", 4096, 256, 262144),
  podCpus: numberSetting("Pod CPUs", 2, 0.25, 256, false),
  podPidsLimit: numberSetting("Pod process limit", 1024, 64, 1048576),
  podIdleMinutes: numberSetting("Idle minutes before a pod stops", 30, 1, 10080),
  prPollSeconds: numberSetting("Seconds between pull request checks", 30, 10, 3600),
  // Off by default: each person has their own pod, so root in it (sudo, to install tools) reaches
  // nobody else's work. On, processes in pods can never gain privileges and sudo does not work.
  podNoNewPrivileges: booleanSetting("No-new-privileges", false),
  recordingLimitMiB: numberSetting("Recording limit per session (MiB)", 64, 1, 65536),
  // "Needs you" after a terminal's output stops this long while its person looks elsewhere; 0 never.
  quietSeconds: numberSetting("Seconds of terminal quiet before a session needs you (0: never)", 60, 0, 86400),
  // The Claude Code Pier gives pods whose image has none; a new one applies to pods from then on.
  claudeCodeVersion: {
    default: DEFAULT_CLAUDE_CODE_VERSION as string,
    parse: (raw: unknown) =>
      typeof raw === "string" && CLAUDE_CODE_VERSION_PATTERN.test(raw.trim())
        ? raw.trim()
        : { problem: `Claude Code version must be a version such as ${DEFAULT_CLAUDE_CODE_VERSION}.` },
  } satisfies PlainSetting<string>,
  // What answers a new session's chat unless its person picks the other engine.
  defaultEngine: {
    default: "pier" as ChatEngineName,
    parse: (raw: unknown) =>
      // The ACP engine needs an agent chosen with it, so it is never the default.
      raw !== "acp" && CHAT_ENGINES.includes(raw as ChatEngineName) ? (raw as ChatEngineName) : { problem: 'Default engine must be "pier" or "claude-code".' },
  } satisfies PlainSetting<ChatEngineName>,
  // The instance's spending per calendar month (UTC) that the Costs page and the dashboard measure
  // against; null is no budget.
  monthlyBudgetUsd: amountSetting("Monthly budget"),
  // On, the monthly budget is a hard stop: past it, the gateway refuses everyone's model requests.
  monthlyBudgetHard: booleanSetting("Monthly budget as a hard stop", false),
  // What one session may spend on models; null is no limit.
  sessionBudgetUsd: amountSetting("Session budget"),
  // Unattended runs (see API.md, "Runs").
  maxConcurrentRuns: numberSetting("Runs at once", 2, 1, 64),
  maxFixRounds: numberSetting("Fix rounds per pull request", 3, 0, 20),
  runBudgetUsd: { ...amountSetting("Budget per run"), default: 10 as number | null },
  runApprovalMinutes: numberSetting("Minutes a run waits for a tool approval", 60, 1, 10080),
  autoMerge: booleanSetting("Merge approved runs' pull requests", false),
  mergeMethod: {
    default: "squash" as MergeMethod,
    parse: (raw: unknown) =>
      MERGE_METHODS.includes(raw as MergeMethod) ? (raw as MergeMethod) : { problem: 'Merge method must be "squash", "merge" or "rebase".' },
  } satisfies PlainSetting<MergeMethod>,
  runToolPolicy: toolPolicySetting("Run tool policy", DEFAULT_RUN_TOOL_POLICY),
  // Off, people sign in only through the identity providers (see src/sso); first-run setup still takes a password.
  passwordSignIn: booleanSetting("Password sign-in", true),
  // How long the audit log keeps an entry; the retention job drops older ones.
  auditRetentionDays: numberSetting("Days the audit log keeps an entry", 365, 1, 36500),
};
type PlainKey = keyof typeof PLAIN;
export type PlainValues = { [K in PlainKey]: (typeof PLAIN)[K]["default"] };
const PLAIN_KEYS = Object.keys(PLAIN) as PlainKey[];

export interface MaskedSecret {
  set: boolean;
  /** Bullets plus the last four characters of a long secret, or null when none is set. */
  mask: string | null;
  source: "settings" | "environment" | null;
}

export type SettingsView = Record<SecretKey, MaskedSecret> & PlainValues;

/** A rule the settings must keep whatever is changed (some admin able to sign in): it throws the refusal. */
export type SettingsRule = (next: PlainValues) => void;

export class SettingsStore {
  private rules: SettingsRule[] = [];

  constructor(
    private db: Db,
    private box: SecretBox,
    private config: Config,
    private audit: AuditLog,
  ) {}

  async view(): Promise<SettingsView> {
    const stored = this.readAll();
    const masked = async (key: SecretKey): Promise<MaskedSecret> => {
      const sealed = stored.get(key);
      if (sealed) return { set: true, mask: mask(await this.box.open(sealed)), source: "settings" };
      const fromEnv = ENV_FALLBACK[key](this.config);
      return fromEnv ? { set: true, mask: mask(fromEnv), source: "environment" } : { set: false, mask: null, source: null };
    };
    return {
      anthropicApiKey: await masked("anthropicApiKey"),
      claudeCodeOauthToken: await masked("claudeCodeOauthToken"),
      openaiApiKey: await masked("openaiApiKey"),
      geminiApiKey: await masked("geminiApiKey"),
      githubToken: await masked("githubToken"),
      githubWebhookSecret: await masked("githubWebhookSecret"),
      ...this.plain(stored),
    };
  }

  /** The plain (non-secret) settings, read synchronously for hot paths such as pod creation. */
  plain(stored = this.readAll()): PlainValues {
    return plainValues(stored);
  }

  /** The plain secret for server-side use (never for rendering): settings first, then the environment. */
  async secret(key: SecretKey): Promise<string | null> {
    const sealed = this.readAll().get(key);
    return sealed ? this.box.open(sealed) : ENV_FALLBACK[key](this.config);
  }

  /** This Pier's id, made on first use; it labels the containers this Pier owns. */
  instanceId(): string {
    const row = this.db.select().from(settings).where(eq(settings.key, "instanceId")).get();
    if (row) return row.value;
    const id = newId();
    this.db.insert(settings).values({ key: "instanceId", value: id, updatedAt: new Date() }).onConflictDoNothing().run();
    return this.db.select().from(settings).where(eq(settings.key, "instanceId")).get()!.value;
  }

  /**
   * Adds a rule every update must keep, from a module that knows what the rule is about (single
   * sign-on, for password sign-in): checked after everything awaited, just before the write, so no
   * other change comes in between in this process.
   */
  keep(rule: SettingsRule): void {
    this.rules.push(rule);
  }

  /**
   * Applies a partial update. A field left out is unchanged; an empty secret clears it.
   * Everything is checked before anything is written.
   */
  async update(actor: Actor, input: Input): Promise<SettingsView> {
    assertAdmin(actor);
    const writes = new Map<string, string>();
    const clears: string[] = [];
    for (const key of SECRET_KEYS) {
      const value = input[key];
      if (value === undefined) continue;
      if (value === null || value === "") {
        clears.push(key);
        continue;
      }
      if (!isSecretText(value)) throw invalid(key, secretProblem(SECRET_LABELS[key]));
      writes.set(key, await this.box.seal(value));
    }
    for (const key of PLAIN_KEYS) {
      const raw = input[key];
      if ((raw === null || raw === "") && "clearable" in PLAIN[key]) {
        clears.push(key);
        continue;
      }
      if (raw === undefined || raw === "") continue;
      const parsed = PLAIN[key].parse(raw);
      if (isProblem(parsed)) throw invalid(key, parsed.problem);
      writes.set(key, storedText(parsed));
    }
    const before = this.readAll();
    const next = new Map(before);
    for (const key of clears) next.delete(key);
    for (const [key, value] of writes) next.set(key, value);
    for (const rule of this.rules) rule(plainValues(next));
    const updatedAt = new Date();
    this.db.transaction((tx) => {
      if (clears.length) tx.delete(settings).where(inArray(settings.key, clears)).run();
      for (const [key, value] of writes) {
        tx.insert(settings)
          .values({ key, value, updatedAt })
          .onConflictDoUpdate({ target: settings.key, set: { value, updatedAt } })
          .run();
      }
    });
    for (const [key, how] of changedKeys(before, writes, clears)) {
      this.audit.record(actor, "setting_changed", { kind: "setting", id: key, name: SECRET_LABELS[key as SecretKey] ?? key }, { detail: how });
    }
    return this.view();
  }

  private readAll(): Map<string, string> {
    return readStored(this.db);
  }
}

/**
 * Which keys an update changed, and how, for the audit log (never their values): a secret given is
 * "set" (sealed anew, it is a change whatever it was), a plain setting "changed" only when it differs
 * from the value in force, stored or default (the settings page sends every field), and either
 * "cleared" when it was stored.
 */
function changedKeys(before: Map<string, string>, writes: Map<string, string>, clears: string[]): Array<[string, "set" | "changed" | "cleared"]> {
  const changed: Array<[string, "set" | "changed" | "cleared"]> = [];
  for (const [key, value] of writes) {
    if ((SECRET_KEYS as readonly string[]).includes(key)) changed.push([key, "set"]);
    else if ((before.get(key) ?? storedText(PLAIN[key as PlainKey].default)) !== value) changed.push([key, "changed"]);
  }
  for (const key of clears) if (before.has(key)) changed.push([key, "cleared"]);
  return changed;
}

/** A plain setting's value as it is stored: text, an object as its JSON. */
function storedText(value: unknown): string {
  return typeof value === "object" && value !== null ? JSON.stringify(value) : String(value);
}

/** The plain settings straight from the database, for modules that need one without the store (the cost budget). */
export function readPlainSettings(db: Db): PlainValues {
  return plainValues(readStored(db));
}

function readStored(db: Db): Map<string, string> {
  return new Map(db.select().from(settings).all().map((row) => [row.key, row.value]));
}

function plainValues(stored: Map<string, string>): PlainValues {
  const values = {} as Record<PlainKey, unknown>;
  for (const key of PLAIN_KEYS) {
    const raw = stored.get(key);
    const parsed = raw === undefined ? PLAIN[key].default : PLAIN[key].parse(raw);
    values[key] = isProblem(parsed) ? PLAIN[key].default : parsed;
  }
  return values as PlainValues;
}

/** A secret as it may be stored: text of at most MAX_SECRET_LENGTH characters, no spaces or control characters. */
export function isSecretText(value: unknown): value is string {
  return typeof value === "string" && value.length <= MAX_SECRET_LENGTH && !/[\s\x00-\x1f\x7f]/.test(value);
}

export function secretProblem(label: string): string {
  return `${label} must be text of at most ${MAX_SECRET_LENGTH} characters with no spaces.`;
}

/** What a secret shows as where nothing of it may show: the same whatever the secret. */
export const SECRET_MASK = "••••••••";

/** A secret as its own keeper sees it (an admin the instance's, a person their own): its last 4 characters, when it is long enough to spare them. */
export function mask(secret: string): string {
  return secret.length >= 16 ? SECRET_MASK + secret.slice(-4) : SECRET_MASK;
}

function isProblem(parsed: unknown): parsed is { problem: string } {
  return typeof parsed === "object" && parsed !== null && "problem" in parsed;
}
