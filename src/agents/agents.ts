import { eq } from "drizzle-orm";
import { type Actor, assertAdmin } from "../auth/actor.ts";
import type { AuditLog } from "../audit/audit-log.ts";
import type { Db } from "../infra/db.ts";
import { AppError, errorMessage, invalid, notFound } from "../infra/errors.ts";
import type { PodKey } from "../runtime/runtime.ts";
import type { PodShell } from "../workspaces/pod-script.ts";
import type { AgentChangesInput, NewAgentInput } from "./agent-input.ts";
import { packageProgram } from "./agent-plan.ts";
import type { AgentLaunch, AgentSupply } from "./agent-supply.ts";
import type { PackageDocs } from "./package-docs.ts";
import { type AgentDefinition, type AgentService, SHIPPED_AGENTS } from "./shipped.ts";
import { agents } from "./tables.ts";

type Row = typeof agents.$inferSelect;

/** An agent as the API and the engine see it: its definition, and whether Pier ships it and an admin edited it. */
export interface Agent extends AgentDefinition {
  /** Pier ships an agent of this id (see shipped.ts). */
  shipped: boolean;
  /** An admin changed Pier's definition (kept as theirs: Pier's new pins no longer apply to it). */
  edited: boolean;
}

export interface AgentsDeps {
  db: Db;
  docs: PackageDocs;
  supply: AgentSupply;
  audit: AuditLog;
}

const SHIPPED = new Map(SHIPPED_AGENTS.map((agent) => [agent.id, agent]));

/**
 * The coding agents sessions may run through the ACP engine (`pier.agents`): the ones Pier ships
 * and the ones admins define, each an npm package at an exact version (checked on the registry
 * when saved) or a command already in the pod's image. Anyone signed in reads them; only admins
 * change them. A shipped agent an admin edits or removes is kept as a row of theirs; one nobody
 * touched follows Pier's own definition, new pins included.
 */
export class Agents {
  constructor(private deps: AgentsDeps) {}

  /** Every agent: the shipped ones (in Pier's order) first, then the admins' by name. */
  list(): Agent[] {
    const rows = this.deps.db.select().from(agents).all();
    const byId = new Map(rows.map((row) => [row.id, row]));
    const shipped = SHIPPED_AGENTS.flatMap((definition) => {
      const row = byId.get(definition.id);
      if (row?.removed) return [];
      return [row ? { ...fromRow(row), shipped: true, edited: true } : { ...definition, args: [...definition.args], shipped: true, edited: false }];
    });
    const own = rows
      .filter((row) => !SHIPPED.has(row.id))
      .map((row) => ({ ...fromRow(row), shipped: false, edited: false }))
      .sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
    return [...shipped, ...own];
  }

  /** The agent of that id, or null when there is none (or it was removed). */
  get(id: string): Agent | null {
    return this.list().find((agent) => agent.id === id) ?? null;
  }

  /**
   * An admin adds an agent. Every field is checked, and the package and version asked of the
   * registry, before anything is written. The id of a shipped agent an admin removed brings it
   * back, with Pier's own definition for what is left out.
   */
  async create(actor: Actor, input: NewAgentInput): Promise<Agent> {
    assertAdmin(actor);
    if (this.get(input.id)) throw new AppError(409, "agent_exists", `An agent with the id ${input.id} exists already; change it with PATCH /api/config/agents/${input.id}.`, "id");
    const base = SHIPPED.get(input.id) ?? null;
    const definition = await this.checked(input.id, base, input);
    const now = new Date();
    this.deps.db.transaction((tx) => {
      // A shipped agent's removal row gives way; two admins adding the same id at once are one of them too many.
      const existing = tx.select().from(agents).where(eq(agents.id, input.id)).get();
      if (existing && !existing.removed) throw new AppError(409, "agent_exists", `An agent with the id ${input.id} exists already.`, "id");
      if (existing) tx.delete(agents).where(eq(agents.id, input.id)).run();
      // Pier's own definition again is no row at all: it follows Pier's pins from then on.
      if (!sameDefinition(definition, base)) tx.insert(agents).values(toRow(definition, now, now)).run();
    });
    this.deps.audit.record(actor, "agent_added", agentTarget(definition), { detail: sourceWords(definition) });
    return this.get(input.id)!;
  }

  /** An admin changes an agent; what is left out stays. A shipped agent's change is kept as the admin's own definition. */
  async update(actor: Actor, id: string, input: AgentChangesInput): Promise<Agent> {
    assertAdmin(actor);
    const current = this.get(id);
    if (!current) throw notFoundAgent();
    const definition = await this.checked(id, current, input);
    const now = new Date();
    const { id: _id, createdAt: _createdAt, ...changes } = toRow(definition, now, now);
    // Changed back to Pier's own definition, a shipped agent is Pier's again (and follows its pins).
    if (sameDefinition(definition, SHIPPED.get(id) ?? null)) this.deps.db.delete(agents).where(eq(agents.id, id)).run();
    else this.deps.db.insert(agents).values(toRow(definition, now, now)).onConflictDoUpdate({ target: agents.id, set: changes }).run();
    this.deps.audit.record(actor, "agent_changed", agentTarget(definition), { detail: sourceWords(definition) });
    return this.get(id)!;
  }

  /** An admin removes an agent; a shipped one is remembered as removed, so no new Pier brings it back. */
  remove(actor: Actor, id: string): void {
    assertAdmin(actor);
    const current = this.get(id);
    if (!current) throw notFoundAgent();
    if (current.shipped) {
      const now = new Date();
      this.deps.db
        .insert(agents)
        .values({ ...toRow(current, now, now), removed: true })
        .onConflictDoUpdate({ target: agents.id, set: { removed: true, updatedAt: now } })
        .run();
    } else {
      this.deps.db.delete(agents).where(eq(agents.id, id)).run();
    }
    this.deps.audit.record(actor, "agent_removed", agentTarget(current));
  }

  /**
   * How to start the agent over stdio in the person's pod of a repo (the engine sets its working
   * directory, the session's worktree, and adds the gateway's environment for its service), or a
   * sentence why it cannot start there now (see AgentSupply).
   */
  async launchFor(agentId: string, key: PodKey, shell: PodShell): Promise<AgentLaunch> {
    const agent = this.get(agentId);
    if (!agent) return { unavailable: `No agent has the id ${agentId}; an admin may have removed it.`, ready: null };
    return this.deps.supply.launch(agent, key, shell);
  }

  /** The definition `input` makes of `base` (none, for a new id), every field checked, the package asked of the registry. */
  private async checked(id: string, base: AgentDefinition | null, input: AgentChangesInput): Promise<AgentDefinition> {
    if (input.package !== undefined && input.command !== undefined) {
      throw invalid("command", "An agent is an npm package (package and version) or a command already in the pod's image, not both.");
    }
    const next: AgentDefinition = base
      ? { id, name: base.name, package: base.package, version: base.version, program: base.program, command: base.command, args: [...base.args], service: base.service }
      : { id, name: "", package: null, version: null, program: null, command: null, args: [], service: "none" };
    if (input.name !== undefined) next.name = input.name;
    if (input.command !== undefined) Object.assign(next, { command: input.command, package: null, version: null, program: null });
    if (input.package !== undefined) {
      // Another package's version is not this one's.
      const version = input.version ?? (input.package === next.package ? next.version : null);
      Object.assign(next, { package: input.package, version, command: null });
    } else if (input.version !== undefined) {
      if (next.package === null) throw invalid("version", "Version goes with a package; this agent runs a command already in the image.");
      next.version = input.version;
    }
    if (input.args !== undefined) next.args = input.args;
    if (!next.name) throw invalid("name", "Name is required.");
    if (!base && input.service === undefined) throw invalid("service", "Service is required: anthropic, openai, gemini or none, the model API the agent's requests go to.");
    if (input.service !== undefined) next.service = input.service as AgentService;
    if (next.package === null && next.command === null) throw invalid("package", "An agent needs a package and its version, or a command already in the pod's image.");
    if (next.package !== null && next.version === null) throw invalid("version", "Version is required with a package: the exact version Pier supplies, such as 1.18.32.");
    if (next.package !== null && (next.package !== base?.package || next.version !== base?.version || next.program === null)) {
      next.program = await this.programOf(next.package, next.version!);
    }
    return next;
  }

  /** The program the package installs, asked of the registry; a 400 naming the field the registry does not know. */
  private async programOf(name: string, version: string): Promise<string> {
    try {
      const doc = await this.deps.docs.version(name, version);
      if (!doc) {
        if (!(await this.deps.docs.hasPackage(name))) throw invalid("package", `The npm registry has no package named ${name}.`);
        throw invalid("version", `The npm registry has ${name}, but not version ${version} of it.`);
      }
      const program = packageProgram(doc);
      if (program) return program;
      const names = Object.keys(doc.bin);
      throw invalid(
        "package",
        names.length === 0
          ? `${name} ${version} installs no program (its package.json names no bin), so there is nothing to start.`
          : `${name} ${version} installs several programs (${names.join(", ")}) and none is named as the package, so Pier cannot tell which is the agent.`,
      );
    } catch (error) {
      if (error instanceof AppError) throw error;
      throw new AppError(502, "registry_unreachable", `Pier could not ask the npm registry about ${name} ${version}: ${errorMessage(error)}`);
    }
  }
}

function fromRow(row: Row): AgentDefinition {
  return {
    id: row.id,
    name: row.name,
    package: row.package,
    version: row.version,
    program: row.program,
    command: row.command,
    args: JSON.parse(row.args) as string[],
    service: row.service as AgentService,
  };
}

function toRow(definition: AgentDefinition, createdAt: Date, updatedAt: Date): Row {
  return {
    id: definition.id,
    name: definition.name,
    package: definition.package,
    version: definition.version,
    program: definition.program,
    command: definition.command,
    args: JSON.stringify(definition.args),
    service: definition.service,
    removed: false,
    createdAt,
    updatedAt,
  };
}

function sameDefinition(a: AgentDefinition, b: AgentDefinition | null): boolean {
  if (!b) return false;
  const { args: argsA, ...restA } = a;
  const { args: argsB, ...restB } = b;
  return JSON.stringify(argsA) === JSON.stringify(argsB) && (Object.keys(restA) as Array<keyof typeof restA>).every((key) => restA[key] === restB[key]);
}

function notFoundAgent(): AppError {
  return notFound("agent");
}

function agentTarget(agent: AgentDefinition) {
  return { kind: "agent", id: agent.id, name: agent.name };
}

function sourceWords(agent: AgentDefinition): string {
  return agent.package !== null ? `${agent.package} ${agent.version}` : `command ${agent.command}`;
}
