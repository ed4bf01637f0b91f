import type { AuditLog } from "../audit/audit-log.ts";
import type { AuditActor } from "../audit/entry.ts";
import { timingSafeEqual } from "node:crypto";
import { type Static, Type } from "@sinclair/typebox";
import { Cron } from "croner";
import { and, desc, eq } from "drizzle-orm";
import { type Actor, assertPerson, isAdmin } from "../auth/actor.ts";
import { generateToken, hashToken } from "../auth/sign-ins.ts";
import type { Db } from "../infra/db.ts";
import { AppError, invalid, notFound } from "../infra/errors.ts";
import type { EventBus } from "../infra/events.ts";
import { newId } from "../infra/ids.ts";
import { type Input, NO_CONTROL_CHARS, asInput, optionalText, readField, requiredText } from "../infra/input.ts";
import { getRepo } from "../repos/repos.ts";
import { EngineField } from "../sessions/engine-field.ts";
import type { ChatEngineName } from "../sessions/tables.ts";
import { TRIGGER_KINDS, type TriggerKind, triggerFirings, triggers } from "./tables.ts";
import { templateProblem } from "./template.ts";

export type TriggerRow = typeof triggers.$inferSelect;
type FiringRow = typeof triggerFirings.$inferSelect;

/** A trigger as the API and pages show it: never its secret (shown once, when made, as `secret`). */
export interface PublicTrigger {
  id: string;
  kind: TriggerKind;
  name: string;
  repoId: string;
  ownerId: string;
  promptTemplate: string;
  cron: string | null;
  label: string | null;
  /** What a comment must mention to start a run, `@pier` unless set. */
  mention: string | null;
  allowedLogins: string[];
  engine: ChatEngineName | null;
  model: string | null;
  budgetUsd: number | null;
  dailyBudgetUsd: number | null;
  maxConcurrent: number | null;
  enabled: boolean;
  lastFiredAt: string | null;
  createdAt: string;
}

export interface PublicFiring {
  id: string;
  at: string;
  outcome: "started" | "refused";
  reason: string | null;
  runId: string | null;
  issueNumber: number | null;
}

declare module "../infra/events.ts" {
  interface PierEvents {
    /** A trigger was made, changed or removed (topic: its id; `trigger` null once removed): its schedule follows. */
    "trigger.changed": { triggerId: string; trigger: PublicTrigger | null };
  }
}

/** What a comment mentions when the trigger names nothing else. */
export const DEFAULT_MENTION = "@pier";
const SECRET_PREFIX = "pierhook_";
const MAX_NAME = 100;
const MAX_TEMPLATE = 20_000;
const MAX_LABEL = 50;
const MAX_LOGINS = 100;
const MAX_BUDGET = 10_000;
const FIRINGS_SHOWN = 100;

const money = (title: string) =>
  Type.Optional(Type.Number({ title, exclusiveMinimum: 0, maximum: MAX_BUDGET, error: `${title} must be a number of US dollars above 0.`, rule: `${title} must be above 0 and at most ${MAX_BUDGET} USD.` }));

const NAME_RULE = { trim: true, maxLength: MAX_NAME, pattern: NO_CONTROL_CHARS, rule: `Name must be 1–${MAX_NAME} characters without control characters.` };
const TEMPLATE_RULE = {
  maxLength: MAX_TEMPLATE,
  pattern: "\\S",
  rule: `The prompt template must be 1–${MAX_TEMPLATE} characters, not only spaces.`,
  description: "What the run's agent is asked to do. {{payload.a.b}}, {{issue.title}}, {{issue.body}}, {{issue.url}} are filled in as quoted text.",
};

const fields = {
  name: requiredText("Name", NAME_RULE),
  promptTemplate: requiredText("Prompt template", TEMPLATE_RULE),
  cron: optionalText("Schedule", { trim: true, maxLength: 100, pattern: NO_CONTROL_CHARS, rule: "The schedule must be one cron expression.", description: "Cron (5 fields, or 6 with seconds first), in the server's time zone." }),
  label: optionalText("Label", { trim: true, maxLength: MAX_LABEL, pattern: NO_CONTROL_CHARS, rule: `The label must be at most ${MAX_LABEL} characters without control characters.` }),
  mention: optionalText("Mention", {
    trim: true,
    pattern: "^(@?[A-Za-z0-9][A-Za-z0-9_-]{0,38})?$",
    rule: "The mention must be a name such as @pier: letters, digits, - and _, at most 39 characters.",
  }),
  allowedLogins: Type.Optional(
    Type.Array(Type.String({ pattern: "^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$", rule: "Each allowed login must be a GitHub login: letters, digits and hyphens, at most 39 characters." }), {
      title: "Allowed logins",
      error: "Allowed logins must be a list of GitHub logins.",
      maxItems: MAX_LOGINS,
      rule: `At most ${MAX_LOGINS} allowed logins.`,
    }),
  ),
  engine: Type.Optional(EngineField),
  model: optionalText("Model", { trim: true, maxLength: 200, pattern: NO_CONTROL_CHARS, rule: "The model must be one line of at most 200 characters." }),
  budgetUsd: money("Budget per run"),
  dailyBudgetUsd: money("Budget per day"),
  maxConcurrent: Type.Optional(Type.Integer({ title: "Runs at once", minimum: 1, maximum: 64, error: "Runs at once must be a whole number.", rule: "Runs at once must be 1–64." })),
  enabled: Type.Optional(Type.Boolean({ title: "Enabled", error: "Enabled must be true or false." })),
};

/** A new trigger (POST /api/triggers). */
export const NewTriggerInput = Type.Object({
  kind: Type.Union(TRIGGER_KINDS.map((kind) => Type.Literal(kind)), { title: "Kind", error: `Kind must be one of ${TRIGGER_KINDS.join(", ")}.` }),
  repoId: requiredText("Repository"),
  ...fields,
});
export type NewTriggerInput = Static<typeof NewTriggerInput>;

/** Changes (PATCH /api/triggers/:id): what is left out stays, null clears an optional field; the kind and repository stay. */
export const TriggerChangesInput = Type.Object({
  ...fields,
  name: optionalText("Name", NAME_RULE),
  promptTemplate: optionalText("Prompt template", TEMPLATE_RULE),
});

/** Fields a person may clear with null. */
const CLEARABLE = ["cron", "label", "mention", "engine", "model", "budgetUsd", "dailyBudgetUsd", "maxConcurrent"] as const;
/** Which fields belong to which kind: the others must be left out. */
const ONLY_FOR: Partial<Record<keyof TriggerRow, TriggerKind>> = { cron: "schedule", label: "github_issue", mention: "github_issue", allowedLogins: "github_issue" };

export interface TriggersDeps {
  db: Db;
  bus: EventBus;
  /** Each firing, started or refused, goes in it too, with the trigger as its actor. */
  audit: AuditLog;
}

/**
 * Triggers: what starts runs without a person at the keyboard. Each has an owner (who made it),
 * whose credentials its runs use; the owner and admins see and change it, other members do not
 * see it at all. A webhook trigger's secret is shown once and kept only as its SHA-256.
 */
export class Triggers {
  constructor(private deps: TriggersDeps) {}

  list(actor: Actor): PublicTrigger[] {
    assertPerson(actor, "Only a person can see triggers, not an agent acting for them.");
    const query = this.deps.db.select().from(triggers);
    const rows = (isAdmin(actor) ? query : query.where(eq(triggers.ownerId, actor.user.id))).orderBy(desc(triggers.createdAt)).all();
    return rows.map(publicTrigger);
  }

  get(actor: Actor, id: string): PublicTrigger {
    return publicTrigger(this.reach(actor, id));
  }

  create(actor: Actor, input: NewTriggerInput): { trigger: PublicTrigger; secret: string | null } {
    assertPerson(actor, "Only a person can make a trigger, not an agent acting for them.");
    const kind = readField(NewTriggerInput, "kind", input.kind);
    const repo = getRepo(this.deps.db, readField(NewTriggerInput, "repoId", input.repoId), "repoId");
    // A run ends in a pull request, so every trigger's repository must be on GitHub.
    if (!repo.githubRepo) throw invalid("repoId", `${repo.name} is not on GitHub, so a run could not open its pull request; set its GitHub repository in the repository's settings first.`);
    const secret = kind === "webhook" ? SECRET_PREFIX + generateToken() : null;
    const row: TriggerRow = {
      id: newId(),
      kind,
      name: readField(NewTriggerInput, "name", input.name),
      repoId: repo.id,
      ownerId: actor.user.id,
      promptTemplate: readField(NewTriggerInput, "promptTemplate", input.promptTemplate),
      cron: null,
      label: null,
      mention: null,
      allowedLogins: "[]",
      engine: null,
      model: null,
      budgetUsd: null,
      dailyBudgetUsd: null,
      maxConcurrent: null,
      secretHash: secret ? hashToken(secret) : null,
      enabled: input.enabled ?? true,
      lastFiredAt: null,
      createdAt: new Date(),
    };
    const made = checked({ ...row, ...readChanges(asInput(input)) });
    this.deps.db.insert(triggers).values(made).run();
    this.changed(made.id);
    return { trigger: publicTrigger(made), secret };
  }

  update(actor: Actor, id: string, body: unknown): PublicTrigger {
    const before = this.reach(actor, id);
    const input = asInput(body);
    if (input.kind !== undefined && input.kind !== before.kind) throw invalid("kind", "A trigger's kind cannot change; make a new trigger instead.");
    if (input.repoId !== undefined && input.repoId !== before.repoId) throw invalid("repoId", "A trigger's repository cannot change; make a new trigger instead.");
    const after = checked({ ...before, ...readChanges(input) });
    this.deps.db.update(triggers).set(after).where(eq(triggers.id, id)).run();
    this.changed(id);
    return publicTrigger(after);
  }

  /**
   * A webhook trigger's new secret, shown this once (its owner lost the old one, or it leaked):
   * from now on only the new one fires it.
   */
  replaceSecret(actor: Actor, id: string): { trigger: PublicTrigger; secret: string } {
    const row = this.reach(actor, id);
    if (row.kind !== "webhook") throw new AppError(409, "not_a_webhook", "Only a webhook trigger has a secret; this one is fired by its schedule or by GitHub.");
    const secret = SECRET_PREFIX + generateToken();
    this.deps.db.update(triggers).set({ secretHash: hashToken(secret) }).where(eq(triggers.id, id)).run();
    return { trigger: publicTrigger(row), secret };
  }

  remove(actor: Actor, id: string): void {
    this.reach(actor, id);
    this.deps.db.delete(triggers).where(eq(triggers.id, id)).run();
    this.deps.bus.publish("trigger.changed", id, { triggerId: id, trigger: null });
  }

  /** Its firings, newest first (the last hundred). */
  firings(actor: Actor, id: string): PublicFiring[] {
    this.reach(actor, id);
    return this.deps.db
      .select()
      .from(triggerFirings)
      .where(eq(triggerFirings.triggerId, id))
      .orderBy(desc(triggerFirings.at), desc(triggerFirings.id))
      .limit(FIRINGS_SHOWN)
      .all()
      .map(publicFiring);
  }

  // ---------------------------------------------------------------- for firing (no one acting)

  /**
   * The webhook trigger this bearer secret opens, or a 401: an unknown id, another kind of
   * trigger and a wrong secret get the same answer, so the answer tells a caller nothing.
   */
  bySecret(id: string, authorization: string | null): TriggerRow {
    const refused = new AppError(401, "bad_secret", "Send the trigger's own secret as a bearer token (Authorization: Bearer …).");
    const presented = authorization?.startsWith("Bearer ") ? authorization.slice("Bearer ".length).trim() : "";
    const row = this.deps.db.select().from(triggers).where(eq(triggers.id, id)).get();
    if (!row || row.kind !== "webhook" || !row.secretHash || !presented) throw refused;
    if (!timingSafeEqual(Buffer.from(hashToken(presented)), Buffer.from(row.secretHash))) throw refused;
    return row;
  }

  row(id: string): TriggerRow | null {
    return this.deps.db.select().from(triggers).where(eq(triggers.id, id)).get() ?? null;
  }

  ofKind(kind: TriggerKind): TriggerRow[] {
    return this.deps.db.select().from(triggers).where(eq(triggers.kind, kind)).all();
  }

  /** A schedule fired at `at` (started or refused): the next start looks for firings missed after it. */
  markFired(id: string, at: Date): void {
    this.deps.db.update(triggers).set({ lastFiredAt: at }).where(eq(triggers.id, id)).run();
  }

  /** Records a firing, and says it in the audit log (with the address a webhook came from, which the firing row does not keep). */
  record(triggerId: string, firing: { outcome: "started" | "refused"; reason?: string; runId?: string; issueNumber?: number; address?: string }): PublicFiring {
    const row: FiringRow = {
      id: newId(),
      triggerId,
      outcome: firing.outcome,
      reason: firing.reason ?? null,
      runId: firing.runId ?? null,
      issueNumber: firing.issueNumber ?? null,
      prTold: false,
      outcomeTold: false,
      at: new Date(),
    };
    this.deps.db.insert(triggerFirings).values(row).run();
    const trigger: AuditActor = { kind: "trigger", id: triggerId, name: this.row(triggerId)?.name ?? triggerId };
    const issue = row.issueNumber === null ? null : `issue #${row.issueNumber}`;
    const address = firing.address ?? null;
    if (row.outcome === "started") this.deps.audit.record(trigger, "trigger_fired", { kind: "run", id: row.runId, name: null }, { detail: issue, address });
    else this.deps.audit.record(trigger, "trigger_refused", null, { detail: issue ? `${issue}: ${row.reason}` : row.reason, address });
    return publicFiring(row);
  }

  /** The firing that started this run from a GitHub issue, with what has been said on the issue. */
  issueFiringOf(runId: string): FiringRow | null {
    const row = this.deps.db.select().from(triggerFirings).where(and(eq(triggerFirings.runId, runId), eq(triggerFirings.outcome, "started"))).get();
    return row?.issueNumber ? row : null;
  }

  told(firingId: string, what: "pr" | "outcome"): void {
    this.deps.db.update(triggerFirings).set(what === "pr" ? { prTold: true } : { outcomeTold: true }).where(eq(triggerFirings.id, firingId)).run();
  }

  /** The trigger, when the actor may see and change it: its owner or an admin. Others are told it does not exist. */
  private reach(actor: Actor, id: string): TriggerRow {
    assertPerson(actor, "Only a person can see triggers, not an agent acting for them.");
    const row = this.row(id);
    if (!row) throw notFound("trigger");
    if (row.ownerId !== actor.user.id && !isAdmin(actor)) throw notFound("trigger");
    return row;
  }

  private changed(id: string): void {
    const row = this.row(id);
    this.deps.bus.publish("trigger.changed", id, { triggerId: id, trigger: row ? publicTrigger(row) : null });
  }
}

/** The optional fields given in a body, read by their rules: null clears, left out stays. */
function readChanges(input: Input): Partial<TriggerRow> {
  const changes: Partial<TriggerRow> = {};
  for (const name of ["name", "promptTemplate", "enabled", ...CLEARABLE] as const) {
    const value = input[name];
    if (value === undefined) continue;
    if ((value === null || value === "") && (CLEARABLE as readonly string[]).includes(name)) {
      Object.assign(changes, { [name]: null });
      continue;
    }
    // Name, template and enabled cannot be cleared: their own rule answers a null or an empty one.
    if (value === null || value === "") readField(NewTriggerInput, name, name === "enabled" ? "" : undefined);
    Object.assign(changes, { [name]: readField(TriggerChangesInput, name, value) });
  }
  if (input.allowedLogins !== undefined && input.allowedLogins !== null) {
    const logins = readField(TriggerChangesInput, "allowedLogins", input.allowedLogins) ?? [];
    changes.allowedLogins = JSON.stringify([...new Set(logins.map((login) => login.toLowerCase()))]);
  }
  if (typeof changes.mention === "string") changes.mention = changes.mention.startsWith("@") ? changes.mention : `@${changes.mention}`;
  return changes;
}

/** The whole trigger checked against its kind: what it needs, and nothing meant for another kind. */
function checked(row: TriggerRow): TriggerRow {
  for (const [field, kind] of Object.entries(ONLY_FOR) as Array<[keyof TriggerRow, TriggerKind]>) {
    const value = row[field];
    const set = field === "allowedLogins" ? value !== "[]" : value !== null;
    if (set && row.kind !== kind) throw invalid(field, `${field} is only for ${kind} triggers.`);
  }
  if (row.kind === "schedule") {
    if (!row.cron) throw invalid("cron", "A schedule trigger needs a cron expression, such as 0 9 * * 1 (Mondays at 9).");
    const problem = cronProblem(row.cron);
    if (problem) throw invalid("cron", problem);
  }
  const problem = templateProblem(row.kind, row.promptTemplate);
  if (problem) throw invalid("promptTemplate", problem);
  if (row.budgetUsd !== null && row.dailyBudgetUsd !== null && row.budgetUsd > row.dailyBudgetUsd) {
    throw invalid("budgetUsd", "The budget per run cannot be more than the budget per day: no run could start.");
  }
  return row;
}

/** Why croner cannot read the expression (a sentence), or null. */
export function cronProblem(expression: string): string | null {
  try {
    const cron = new Cron(expression, { paused: true });
    const fires = cron.nextRun() !== null;
    cron.stop();
    return fires ? null : "This cron expression never fires.";
  } catch (error) {
    // croner's own sentence may end with its full stop already.
    const reason = (error instanceof Error ? error.message : String(error)).replace(/\.+$/, "");
    return `The schedule is not a cron expression croner can read: ${reason}.`;
  }
}

export function publicTrigger(row: TriggerRow): PublicTrigger {
  return {
    id: row.id,
    kind: row.kind,
    name: row.name,
    repoId: row.repoId,
    ownerId: row.ownerId,
    promptTemplate: row.promptTemplate,
    cron: row.cron,
    label: row.label,
    mention: row.kind === "github_issue" ? (row.mention ?? DEFAULT_MENTION) : null,
    allowedLogins: JSON.parse(row.allowedLogins) as string[],
    engine: row.engine,
    model: row.model,
    budgetUsd: row.budgetUsd,
    dailyBudgetUsd: row.dailyBudgetUsd,
    maxConcurrent: row.maxConcurrent,
    enabled: row.enabled,
    lastFiredAt: row.lastFiredAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
  };
}

function publicFiring(row: FiringRow): PublicFiring {
  return { id: row.id, at: row.at.toISOString(), outcome: row.outcome, reason: row.reason, runId: row.runId, issueNumber: row.issueNumber };
}
