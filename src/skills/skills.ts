import { type Static, Type } from "@sinclair/typebox";
import { and, asc, desc, eq, inArray, isNull, type SQL } from "drizzle-orm";
import { type Actor, assertAdmin, isAdmin } from "../auth/actor.ts";
import type { Db, Tx } from "../infra/db.ts";
import { AppError, forbidden, invalid, notFound } from "../infra/errors.ts";
import type { EventBus } from "../infra/events.ts";
import { newId } from "../infra/ids.ts";
import { optionalText, readField, requiredText } from "../infra/input.ts";
import type { Mirrors } from "../repos/mirrors.ts";
import { getRepo } from "../repos/repos.ts";
import type { SessionFile } from "../workspaces/workspace.ts";
import { CommittedSkillReader, type CommittedSkills, MAX_CONTENT_BYTES, MAX_NAME, SKILL_NAME } from "./committed.ts";
import { describeContent, oneLine, renderSkillFile, skillPath } from "./skill-file.ts";
import {
  PROPOSAL_STATES,
  SKILL_CATEGORIES,
  SKILL_POLICY_MODES,
  type ProposalState,
  type SkillCategory,
  type SkillPolicyMode,
  repoSkillChoices,
  repoSkillPolicies,
  skillProposals,
  skills,
} from "./tables.ts";

type Row = typeof skills.$inferSelect;
type ProposalRow = typeof skillProposals.$inferSelect;

/** A skill as the API and pages show it. */
export interface PublicSkill {
  id: string;
  name: string;
  category: SkillCategory;
  content: string;
  /** Its own, or its content's first heading or line. */
  description: string;
  /** The description was given (not taken from the content). */
  descriptionGiven: boolean;
  enabled: boolean;
  /** null for a global skill. */
  repoId: string | null;
  createdAt: string;
  updatedAt: string;
}

/** A skill a session of a repo gets. */
export interface EffectiveSkill {
  id: string;
  name: string;
  description: string;
  category: SkillCategory;
  content: string;
  scope: "global" | "repo";
}

/** A repo's skill policy, with every global skill and whether the repo takes it. */
export interface SkillPolicyView {
  repoId: string;
  mode: SkillPolicyMode;
  globals: Array<{
    id: string;
    name: string;
    category: SkillCategory;
    description: string;
    /** Enabled globally. */
    enabled: boolean;
    /** Under a custom policy, the repo's own choice; null follows the skill's global enabled. */
    choice: boolean | null;
    /** Its sessions get it. */
    on: boolean;
  }>;
  /** The repo's own skills. */
  own: PublicSkill[];
  /** The skills its sessions get, by name (a repo's own wins over a global one of the same name). */
  effective: Array<{ id: string; name: string; description: string; scope: "global" | "repo" }>;
}

export interface PublicProposal {
  id: string;
  sessionId: string;
  userId: string | null;
  /** The scope a new skill would go to (null: global). */
  repoId: string | null;
  /** The skill it changes, or null for a new one. */
  skillId: string | null;
  name: string;
  category: SkillCategory;
  content: string;
  description: string;
  reason: string | null;
  state: ProposalState;
  decidedBy: string | null;
  decidedAt: string | null;
  createdAt: string;
}

const NAME_RULE = {
  maxLength: MAX_NAME,
  pattern: SKILL_NAME.source,
  rule: `A skill's name is lowercase words of letters and digits joined by single hyphens (like release-notes), at most ${MAX_NAME} characters.`,
};
const name = requiredText("Name", { description: "Lowercase words of letters and digits joined by hyphens, at most 64 characters.", ...NAME_RULE });
const category = Type.Union(
  SKILL_CATEGORIES.map((c) => Type.Literal(c)),
  { title: "Category", error: `Category must be one of ${SKILL_CATEGORIES.join(", ")}.` },
);
const content = requiredText("Content", { description: "Markdown: the instructions the agent follows when it uses the skill." });
const description = optionalText("Description", { description: "One line; taken from the content's first heading or first line when empty." });
const enabled = Type.Boolean({ title: "Enabled", error: "Enabled must be true or false." });

export const NewSkillInput = Type.Object({
  name,
  category,
  content,
  description,
  enabled: Type.Optional(enabled),
  repoId: optionalText("Repository", { description: "A repository's id for its own skill; left out or empty, a global skill." }),
});
export type NewSkillInput = Static<typeof NewSkillInput>;

export const SkillChangesInput = Type.Object({
  name: optionalText("Name", NAME_RULE),
  category: Type.Optional(category),
  content: optionalText("Content"),
  description,
  enabled: Type.Optional(enabled),
});
export type SkillChangesInput = Static<typeof SkillChangesInput>;

export const SkillPolicyInput = Type.Object({
  mode: Type.Union(
    SKILL_POLICY_MODES.map((m) => Type.Literal(m)),
    { title: "Mode", error: "Mode must be inherit or custom." },
  ),
  skills: Type.Optional(
    Type.Record(Type.String(), Type.Boolean(), {
      title: "Skills",
      error: "Skills must map global skill ids to true (on) or false (off).",
      description: "Under custom: on or off for each global skill; one left out follows its global enabled. Given, it replaces the earlier choices.",
    }),
  ),
});
export type SkillPolicyInput = Static<typeof SkillPolicyInput>;

export const ImportSkillsInput = Type.Object({
  names: Type.Array(Type.String(), { title: "Skills", minItems: 1, maxItems: 50, error: "Pick at least one skill to import." }),
});
export type ImportSkillsInput = Static<typeof ImportSkillsInput>;

/** What the agent proposes: its propose_skill tool's input, as the model is shown it. */
export const ProposalInput = Type.Object({
  name: requiredText("Name", { description: "Lowercase words joined by hyphens, at most 64 characters; an existing skill's name proposes a change to it.", ...NAME_RULE }),
  category,
  content: requiredText("Content", { description: "The skill's Markdown, starting with a heading that says what it is for." }),
  description: optionalText("Description", { description: "One line; the first heading is used when left out." }),
  reason: optionalText("Reason", { description: "Why it helps, for the person who decides." }),
  scope: Type.Optional(
    Type.Union([Type.Literal("repo"), Type.Literal("global")], {
      title: "Scope",
      error: "Scope must be repo or global.",
      description: "For a new skill: this repository (default) or every repository.",
    }),
  ),
});
export type ProposalInput = Static<typeof ProposalInput>;

/** A session keeps at most this many proposals waiting. */
const MAX_PENDING_PER_SESSION = 20;

export interface SkillDeps {
  db: Db;
  bus: EventBus;
  mirrors: Mirrors;
  /** The repo of a session, for the agent acting in it (the sessions module owns sessions). */
  sessionRepoOf(sessionId: string): string | null;
}

/**
 * Skills: global ones and each repo's own, what a repo's sessions get under its policy, the files
 * that puts in their worktrees, the skills a repo commits itself (for an import), and the agent's
 * proposals. Admins change skills and policies; everyone signed in reads them, and the agent reads
 * those of its session and proposes, never changes. Every change that alters what a repo's
 * sessions get is announced as session.files-changed, so live worktrees follow within seconds.
 */
export class Skills {
  private db: Db;
  private committedReader: CommittedSkillReader;

  constructor(private deps: SkillDeps) {
    this.db = deps.db;
    this.committedReader = new CommittedSkillReader(deps.mirrors);
  }

  /** Every skill, or one repo's own (`repoId`), or the global ones (`scope: "global"`). */
  list(_actor: Actor, filter: { repoId?: string; scope?: string } = {}): PublicSkill[] {
    const where: SQL[] = [];
    if (filter.repoId) where.push(eq(skills.repoId, filter.repoId));
    else if (filter.scope === "global") where.push(isNull(skills.repoId));
    return this.db
      .select()
      .from(skills)
      .where(and(...where))
      .orderBy(asc(skills.scope), asc(skills.name))
      .all()
      .map(publicSkill);
  }

  get(_actor: Actor, id: string): PublicSkill {
    return publicSkill(this.row(id));
  }

  create(actor: Actor, input: NewSkillInput): PublicSkill {
    assertAdmin(actor, "Only an admin can add a skill.");
    const repoId = input.repoId || null;
    if (repoId) this.assertRepo(repoId);
    const now = new Date();
    const row = {
      id: newId(),
      name: checkName(input.name),
      category: input.category,
      content: checkContent(input.content),
      description: ownDescription(input.description),
      enabled: input.enabled ?? true,
      repoId,
      createdBy: actor.user.id,
      createdAt: now,
      updatedAt: now,
    };
    this.db.transaction((tx) => {
      this.assertNameFree(tx, repoId, row.name);
      tx.insert(skills).values(row).run();
    });
    this.changed(repoId);
    return this.get(actor, row.id);
  }

  update(actor: Actor, id: string, input: SkillChangesInput): PublicSkill {
    assertAdmin(actor, "Only an admin can change a skill.");
    const before = this.row(id);
    const changes: Partial<Row> = { updatedAt: new Date() };
    if (input.name !== undefined) changes.name = checkName(input.name);
    if (input.category !== undefined) changes.category = input.category;
    if (input.content !== undefined) changes.content = checkContent(input.content);
    if (input.description !== undefined) changes.description = ownDescription(input.description);
    if (input.enabled !== undefined) changes.enabled = input.enabled;
    this.db.transaction((tx) => {
      if (changes.name !== undefined && changes.name !== before.name) this.assertNameFree(tx, before.repoId, changes.name);
      tx.update(skills).set(changes).where(eq(skills.id, id)).run();
    });
    this.changed(before.repoId);
    return this.get(actor, id);
  }

  remove(actor: Actor, id: string): void {
    assertAdmin(actor, "Only an admin can delete a skill.");
    const row = this.row(id);
    this.db.delete(skills).where(eq(skills.id, id)).run();
    this.changed(row.repoId);
  }

  /** A repo's policy, its global skills' on/off and its own skills. */
  policy(actor: Actor, repoId: string): SkillPolicyView {
    this.assertRepo(repoId, null);
    const mode = this.modeOf(repoId);
    const choices = this.choicesOf(repoId);
    const globals = this.db.select().from(skills).where(isNull(skills.repoId)).orderBy(asc(skills.name)).all();
    const effective = this.effectiveSkills(repoId);
    return {
      repoId,
      mode,
      globals: globals.map((row) => {
        const choice = choices.get(row.id) ?? null;
        return {
          id: row.id,
          name: row.name,
          category: row.category,
          description: descriptionOf(row),
          enabled: row.enabled,
          choice,
          on: mode === "inherit" ? row.enabled : (choice ?? row.enabled),
        };
      }),
      own: this.list(actor, { repoId }),
      effective: effective.map(({ id, name, description, scope }) => ({ id, name, description, scope })),
    };
  }

  /** An admin sets a repo's policy: inherit the enabled global skills, or choose them (see SkillPolicyInput). */
  setPolicy(actor: Actor, repoId: string, input: SkillPolicyInput): SkillPolicyView {
    assertAdmin(actor, "Only an admin can change a repository's skills.");
    this.assertRepo(repoId, null);
    const given = input.skills ? Object.entries(input.skills) : null;
    if (given?.length) {
      const ids = given.map(([id]) => id);
      const found = new Set(
        this.db
          .select({ id: skills.id })
          .from(skills)
          .where(and(inArray(skills.id, ids), isNull(skills.repoId)))
          .all()
          .map((row) => row.id),
      );
      const unknown = ids.find((id) => !found.has(id));
      if (unknown) throw invalid("skills", `No global skill with the id ${unknown.slice(0, 40)}.`);
    }
    this.db.transaction((tx) => {
      tx.insert(repoSkillPolicies)
        .values({ repoId, mode: input.mode, updatedAt: new Date() })
        .onConflictDoUpdate({ target: repoSkillPolicies.repoId, set: { mode: input.mode, updatedAt: new Date() } })
        .run();
      if (given) {
        tx.delete(repoSkillChoices).where(eq(repoSkillChoices.repoId, repoId)).run();
        if (given.length) tx.insert(repoSkillChoices).values(given.map(([skillId, on]) => ({ repoId, skillId, enabled: on }))).run();
      }
    });
    this.changed(repoId);
    return this.policy(actor, repoId);
  }

  /**
   * What a session of the repo gets: the repo's own enabled skills, and the global ones its
   * policy takes (inherit: those enabled globally; custom: its own on/off, else the global
   * enabled). A repo's own skill wins over a global one of the same name. By name.
   */
  effectiveSkills(repoId: string): EffectiveSkill[] {
    const mode = this.modeOf(repoId);
    const choices = mode === "custom" ? this.choicesOf(repoId) : new Map<string, boolean>();
    const byName = new Map<string, EffectiveSkill>();
    const globals = this.db.select().from(skills).where(isNull(skills.repoId)).all();
    for (const row of globals) {
      if (choices.get(row.id) ?? row.enabled) byName.set(row.name, effective(row, "global"));
    }
    const own = this.db
      .select()
      .from(skills)
      .where(and(eq(skills.repoId, repoId), eq(skills.enabled, true)))
      .all();
    for (const row of own) byName.set(row.name, effective(row, "repo"));
    return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** The skills of the agent's own session. */
  sessionSkills(actor: Actor): EffectiveSkill[] {
    const repoId = this.repoOfAgent(actor);
    return repoId ? this.effectiveSkills(repoId) : [];
  }

  /** The SKILL.md files of a repo's sessions' worktrees. */
  files(repoId: string): SessionFile[] {
    return this.effectiveSkills(repoId).map((skill) => ({ path: skillPath(skill.name), content: renderSkillFile(skill.name, skill.description, skill.content) }));
  }

  /** The skills the repo commits itself on its default branch (from the server's mirror), for the repo page and an import. */
  committed(_actor: Actor, repoId: string): Promise<CommittedSkills> {
    return this.committedReader.read(this.assertRepo(repoId, null));
  }

  /** Brings the repo's mirror up to date with its remote, so its committed skills are current. */
  async refreshCommitted(actor: Actor, repoId: string): Promise<CommittedSkills> {
    assertAdmin(actor, "Only an admin can import skills.");
    const repo = this.assertRepo(repoId, null);
    try {
      await this.deps.mirrors.update(repo);
    } catch (error) {
      const why = error instanceof Error ? error.message.trim().split("\n").at(-1)!.slice(0, 300) : String(error);
      throw new AppError(502, "fetch_failed", `Fetching ${repo.name} from its remote failed: ${why}`);
    }
    return this.committedReader.read(repo);
  }

  /**
   * An admin imports skills the repo commits as the repo's own skills in Pier, read again from the
   * mirror (nothing a client sends is taken for their content). All or nothing.
   */
  async importCommitted(actor: Actor, repoId: string, input: ImportSkillsInput): Promise<PublicSkill[]> {
    assertAdmin(actor, "Only an admin can import skills.");
    const found = await this.committed(actor, repoId);
    const picked = [...new Set(input.names)].map((wanted) => {
      const skill = found.skills.find((s) => s.name === wanted);
      if (!skill) throw invalid("names", `The repository commits no skill named ${wanted.slice(0, MAX_NAME)} on ${found.branch}.`);
      if (skill.problem || !skill.body) throw invalid("names", `${skill.name} cannot be imported: ${skill.problem}`);
      return { ...skill, body: skill.body };
    });
    const now = new Date();
    const rows = picked.map((skill) => ({
      id: newId(),
      name: skill.name!,
      category: skill.category,
      content: checkContent(skill.body),
      description: skill.descriptionGiven ? ownDescription(skill.description) : null,
      enabled: true,
      repoId,
      createdBy: actor.user.id,
      createdAt: now,
      updatedAt: now,
    }));
    this.db.transaction((tx) => {
      for (const row of rows) this.assertNameFree(tx, repoId, row.name);
      tx.insert(skills).values(rows).run();
    });
    this.changed(repoId);
    return rows.map((row) => this.get(actor, row.id));
  }

  /**
   * The agent proposes a skill: new content for the one of that name its session has, or a new
   * one (for its repo, or global). It waits for an admin; the session's person sees it pending.
   */
  propose(actor: Actor, input: ProposalInput): PublicProposal {
    if (actor.kind !== "agent") throw forbidden("Only the agent proposes skills; a person adds them on the Skills page.");
    const repoId = this.repoOfAgent(actor);
    if (!repoId) throw notFound("session");
    const skillName = checkName(input.name);
    const target = this.sessionSkills(actor).find((skill) => skill.name === skillName);
    const pending = this.db
      .select({ id: skillProposals.id })
      .from(skillProposals)
      .where(and(eq(skillProposals.sessionId, actor.sessionId), eq(skillProposals.state, "pending")))
      .all();
    if (pending.length >= MAX_PENDING_PER_SESSION) {
      throw new AppError(409, "too_many_proposals", `This session already has ${pending.length} proposals waiting; wait until a person has decided on them.`);
    }
    const row: ProposalRow = {
      id: newId(),
      sessionId: actor.sessionId,
      userId: actor.user.id,
      repoId: target ? (target.scope === "repo" ? repoId : null) : input.scope === "global" ? null : repoId,
      skillId: target?.id ?? null,
      name: skillName,
      category: input.category,
      content: checkContent(input.content),
      description: ownDescription(input.description),
      reason: input.reason?.trim().slice(0, 2000) || null,
      state: "pending",
      decidedBy: null,
      decidedAt: null,
      createdAt: new Date(),
    };
    this.db.insert(skillProposals).values(row).run();
    return publicProposal(row);
  }

  /** Proposals: every one for an admin, a person's own sessions' for them, its session's for the agent. Pending first, newest first. */
  proposals(actor: Actor, filter: { state?: string } = {}): PublicProposal[] {
    const where: SQL[] = [];
    if (actor.kind === "agent") where.push(eq(skillProposals.sessionId, actor.sessionId));
    else if (!isAdmin(actor)) where.push(eq(skillProposals.userId, actor.user.id));
    if (filter.state) {
      if (!(PROPOSAL_STATES as readonly string[]).includes(filter.state)) throw invalid("state", `State must be one of ${PROPOSAL_STATES.join(", ")}.`);
      where.push(eq(skillProposals.state, filter.state as ProposalState));
    }
    return this.db
      .select()
      .from(skillProposals)
      .where(and(...where))
      .orderBy(desc(eq(skillProposals.state, "pending")), desc(skillProposals.createdAt))
      .limit(200)
      .all()
      .map(publicProposal);
  }

  /** The proposal, for who may see it. */
  proposal(actor: Actor, id: string): PublicProposal {
    const row = this.proposalRow(id);
    if (!isAdmin(actor) && row.userId !== actor.user.id) throw notFound("proposal");
    if (actor.kind === "agent" && row.sessionId !== actor.sessionId) throw notFound("proposal");
    return publicProposal(row);
  }

  /** The skill a proposal would change, as it is now (for its diff), or null for a new one. */
  proposalTarget(proposal: PublicProposal): PublicSkill | null {
    const row = this.findTarget(this.db, proposal);
    return row ? publicSkill(row) : null;
  }

  /** An admin accepts a proposal: the skill it changes takes its content, or a new skill is made. */
  accept(actor: Actor, id: string): { proposal: PublicProposal; skill: PublicSkill } {
    assertAdmin(actor, "Only an admin can accept a proposed skill.");
    const proposal = this.pendingProposal(id);
    const skillId = this.db.transaction((tx) => {
      const now = new Date();
      const target = this.findTarget(tx, publicProposal(proposal));
      let id: string;
      if (target) {
        id = target.id;
        tx.update(skills)
          .set({ category: proposal.category, content: proposal.content, description: proposal.description, updatedAt: now })
          .where(eq(skills.id, id))
          .run();
      } else {
        id = newId();
        tx.insert(skills)
          .values({ id, name: proposal.name, category: proposal.category, content: proposal.content, description: proposal.description, enabled: true, repoId: proposal.repoId, createdBy: actor.user.id, createdAt: now, updatedAt: now })
          .run();
      }
      tx.update(skillProposals).set({ state: "accepted", skillId: id, decidedBy: actor.user.id, decidedAt: now }).where(eq(skillProposals.id, proposal.id)).run();
      return id;
    });
    const skill = this.get(actor, skillId);
    this.changed(skill.repoId);
    return { proposal: publicProposal(this.proposalRow(id)), skill };
  }

  /** An admin, or the person whose session proposed it, declines a proposal. */
  decline(actor: Actor, id: string): PublicProposal {
    const proposal = this.pendingProposal(id);
    if (actor.kind !== "person" || (!isAdmin(actor) && proposal.userId !== actor.user.id)) {
      throw forbidden("Only an admin, or the person whose session proposed it, can decline a proposed skill.");
    }
    this.db.update(skillProposals).set({ state: "declined", decidedBy: actor.user.id, decidedAt: new Date() }).where(eq(skillProposals.id, id)).run();
    return publicProposal(this.proposalRow(id));
  }

  /** The skill a proposal changes: the one it named if it is still there, else the one of its name in its scope. */
  private findTarget(tx: Db | Tx, proposal: PublicProposal): Row | undefined {
    const byId = proposal.skillId ? tx.select().from(skills).where(eq(skills.id, proposal.skillId)).get() : undefined;
    if (byId) return byId;
    return tx
      .select()
      .from(skills)
      .where(and(eq(skills.scope, proposal.repoId ?? ""), eq(skills.name, proposal.name)))
      .get();
  }

  private pendingProposal(id: string): ProposalRow {
    const row = this.proposalRow(id);
    if (row.state !== "pending") throw new AppError(409, "proposal_decided", `That proposal was already ${row.state}.`);
    return row;
  }

  private proposalRow(id: string): ProposalRow {
    const row = this.db.select().from(skillProposals).where(eq(skillProposals.id, id)).get();
    if (!row) throw notFound("proposal");
    return row;
  }

  private repoOfAgent(actor: Actor): string | null {
    return actor.kind === "agent" ? this.deps.sessionRepoOf(actor.sessionId) : null;
  }

  /** What a repo's (or, for null, every repo's) sessions get has changed: their worktrees follow. */
  private changed(repoId: string | null): void {
    this.deps.bus.publish("session.files-changed", repoId ?? "*", { repoId });
  }

  private modeOf(repoId: string): SkillPolicyMode {
    return this.db.select({ mode: repoSkillPolicies.mode }).from(repoSkillPolicies).where(eq(repoSkillPolicies.repoId, repoId)).get()?.mode ?? "inherit";
  }

  private choicesOf(repoId: string): Map<string, boolean> {
    const rows = this.db.select().from(repoSkillChoices).where(eq(repoSkillChoices.repoId, repoId)).all();
    return new Map(rows.map((row) => [row.skillId, row.enabled]));
  }

  private assertNameFree(tx: Tx, repoId: string | null, skillName: string): void {
    const taken = tx
      .select({ id: skills.id })
      .from(skills)
      .where(and(eq(skills.scope, repoId ?? ""), eq(skills.name, skillName)))
      .get();
    if (taken) {
      throw new AppError(409, "name_taken", `A ${repoId ? "skill of this repository" : "global skill"} named ${skillName} already exists.`, "name");
    }
  }

  /** The repo, or a 400 naming the field (a 404 when the repo is the subject, field null). */
  private assertRepo(repoId: string, field: string | null = "repoId") {
    return getRepo(this.db, repoId, field ?? undefined);
  }

  private row(id: string): Row {
    const row = this.db.select().from(skills).where(eq(skills.id, id)).get();
    if (!row) throw notFound("skill");
    return row;
  }
}

/** The name as its schema reads it (by any door: a person's form, the agent's proposal). */
function checkName(raw: string): string {
  return readField(SkillChangesInput, "name", raw)!;
}

/** The content as kept: line ends as LF (a browser's form sends CRLF). */
function checkContent(raw: string): string {
  const text = raw.replace(/\r\n?/g, "\n");
  if (!text.trim()) throw invalid("content", "Content is required.");
  if (text.includes("\0")) throw invalid("content", "Content must be text.");
  if (Buffer.byteLength(text, "utf8") > MAX_CONTENT_BYTES) throw invalid("content", `Content must be at most ${MAX_CONTENT_BYTES / 1024} KiB.`);
  return text;
}

/** A description given by hand (one line), or null to take it from the content. */
function ownDescription(text: string | undefined): string | null {
  return text === undefined ? null : oneLine(text) || null;
}

function descriptionOf(row: { description: string | null; content: string; name: string }): string {
  return row.description || describeContent(row.content) || row.name;
}

function effective(row: Row, scope: "global" | "repo"): EffectiveSkill {
  return { id: row.id, name: row.name, description: descriptionOf(row), category: row.category, content: row.content, scope };
}

function publicSkill(row: Row): PublicSkill {
  return {
    id: row.id,
    name: row.name,
    category: row.category,
    content: row.content,
    description: descriptionOf(row),
    descriptionGiven: row.description !== null,
    enabled: row.enabled,
    repoId: row.repoId,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

function publicProposal(row: ProposalRow): PublicProposal {
  return {
    id: row.id,
    sessionId: row.sessionId,
    userId: row.userId,
    repoId: row.repoId,
    skillId: row.skillId,
    name: row.name,
    category: row.category,
    content: row.content,
    description: descriptionOf(row),
    reason: row.reason,
    state: row.state,
    decidedBy: row.decidedBy,
    decidedAt: row.decidedAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
  };
}
