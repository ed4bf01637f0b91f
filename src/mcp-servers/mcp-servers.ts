import { type Static, Type } from "@sinclair/typebox";
import { and, asc, eq, isNull, or } from "drizzle-orm";
import { type Actor, assertAdmin } from "../auth/actor.ts";
import type { Db } from "../infra/db.ts";
import { AppError, invalid, notFound } from "../infra/errors.ts";
import type { EventBus } from "../infra/events.ts";
import { newId } from "../infra/ids.ts";
import { NO_CONTROL_CHARS, optionalText, readField, requiredText } from "../infra/input.ts";
import type { SecretBox } from "../infra/secret-box.ts";
import { getRepo } from "../repos/repos.ts";
import { SECRET_MASK } from "../settings/settings.ts";
import { mcpServers } from "./tables.ts";

type Row = typeof mcpServers.$inferSelect;

/** An MCP server as the API and pages show it: environment values as a fixed mask, never opened for anyone. */
export interface PublicMcpServer {
  id: string;
  name: string;
  /** Null for a global server. */
  repoId: string | null;
  command: string;
  args: string[];
  /** NAME → the fixed mask: which variables are set, and nothing of their values. */
  env: Record<string, string>;
  enabled: boolean;
  createdAt: string;
  updatedAt: string;
}

/** A server a session of a repo gets, without its secrets; `revision` changes with every edit. */
export interface EffectiveMcpServer {
  id: string;
  name: string;
  command: string;
  args: string[];
  revision: number;
}

/** What starts a server in a pod, secrets opened: only ever handed to the pod's launcher over its socket. */
export interface McpLaunch {
  command: string;
  args: string[];
  env: Record<string, string>;
}

/**
 * Names are keys of .mcp.json and the middle of the agent's tool names (`mcp__<name>__<tool>`):
 * lowercase words joined by hyphens. `pier` is Pier's own endpoint in .mcp.json.
 */
export const MCP_SERVER_NAME = /^[a-z0-9]+(-[a-z0-9]+)*$/;
const MAX_NAME = 64;
const RESERVED = new Set(["pier"]);
const NAME_RULE = `Name must be lowercase letters and digits in words joined by single hyphens (such as github or my-tools), at most ${MAX_NAME} characters.`;
const MAX_COMMAND = 1000;
const MAX_ARGS = 100;
const MAX_ARG = 4000;
const MAX_ENV = 50;
const MAX_ENV_NAME = 128;
const MAX_ENV_VALUE = 8000;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** The pod's launcher keeps its own variables under this prefix, so no server's environment can overwrite them. */
const LAUNCHER_PREFIX = "__pier_";
/**
 * How a kept value shows; sent back, it keeps the stored value. Anything starting with it does,
 * so a client still holding a mask of the older kind (with the last 4 characters) keeps it too.
 */
const MASK_PREFIX = SECRET_MASK;

const name = { maxLength: MAX_NAME, pattern: MCP_SERVER_NAME.source, rule: NAME_RULE };
const command = {
  maxLength: MAX_COMMAND,
  // Not only spaces, and one line.
  pattern: "^(?!\\s*$)[^\\x00-\\x1f\\x7f]*$",
  rule: `Command must be one line of at most ${MAX_COMMAND} characters: the program to start.`,
};
const args = Type.Optional(
  Type.Array(
    Type.String({ maxLength: MAX_ARG, pattern: NO_CONTROL_CHARS, rule: `Each argument must be one line of at most ${MAX_ARG} characters.` }),
    { title: "Arguments", error: "Arguments must be a list of text, one item per argument.", maxItems: MAX_ARGS, rule: `At most ${MAX_ARGS} arguments.` },
  ),
);
const env = Type.Optional(
  Type.Record(Type.String(), Type.String(), {
    title: "Environment",
    error: "Environment must be an object of variable names to text values.",
    maxProperties: MAX_ENV,
    rule: `At most ${MAX_ENV} environment variables.`,
    description: `Values are secrets. A value sent back as shown (starting ${MASK_PREFIX}) keeps the stored one.`,
  }),
);
const enabled = Type.Optional(Type.Boolean({ title: "Enabled", error: "Enabled must be true or false." }));

/** A new MCP server (POST /api/config/mcps): global, or for one repo. */
export const NewMcpServerInput = Type.Object({
  name: requiredText("Name", name),
  command: requiredText("Command", { description: "The program to start, found on the pod's PATH or an absolute path.", ...command }),
  args,
  env,
  enabled,
  repoId: optionalText("Repository", { description: "The repo whose sessions get it; left out, every repo's." }),
});
export type NewMcpServerInput = Static<typeof NewMcpServerInput>;

/**
 * Changes to a server (PATCH /api/config/mcps/:id); what is left out stays. `env`, when given, is
 * the whole set: names left out are removed, and a value sent back masked keeps the stored one,
 * so editing never needs a secret again. Its scope (global or a repo) stays what it was made with.
 */
export const McpServerChangesInput = Type.Object({
  name: optionalText("Name", name),
  command: optionalText("Command", command),
  args,
  env,
  enabled,
});
export type McpServerChangesInput = Static<typeof McpServerChangesInput>;

export interface McpServersDeps {
  db: Db;
  box: SecretBox;
  bus: EventBus;
}

/**
 * The MCP servers sessions get, global or per repo. Admins change them; anyone signed in may
 * read them, with every environment value shown as the same fixed mask, to admins too: values
 * are sealed at rest and opened only to start a server in a pod, and an admin who set one can
 * always set it again, so no one needs to see any character of it. A change is announced as
 * "session.files-changed", so every live session's .mcp.json follows within seconds; the chat's
 * agent picks it up at its next turn.
 */
export class McpServers {
  constructor(private deps: McpServersDeps) {}

  /** Every server, global first; with `repoId`, that repo's own. */
  list(_actor: Actor, filter: { repoId?: string } = {}): PublicMcpServer[] {
    const rows = this.deps.db
      .select()
      .from(mcpServers)
      .where(filter.repoId === undefined ? undefined : eq(mcpServers.repoId, filter.repoId))
      .orderBy(asc(mcpServers.name))
      .all()
      .sort((a, b) => Number(a.repoId !== null) - Number(b.repoId !== null));
    return rows.map((row) => this.public(row));
  }

  get(_actor: Actor, id: string): PublicMcpServer {
    return this.public(this.row(id));
  }

  /** An admin adds a server. Every field is checked before anything is written. */
  async create(actor: Actor, input: NewMcpServerInput): Promise<PublicMcpServer> {
    assertAdmin(actor);
    const repoId = input.repoId || null;
    if (repoId !== null) getRepo(this.deps.db, repoId, "repoId");
    const name = checkName(input.name);
    const command = readField(McpServerChangesInput, "command", input.command)!;
    const argv = readField(McpServerChangesInput, "args", input.args) ?? [];
    const sealed = await this.sealEnv(input.env ?? {}, {});
    const now = new Date();
    const row: Row = {
      id: newId(),
      name,
      repoId,
      command,
      args: JSON.stringify(argv),
      env: JSON.stringify(sealed),
      enabled: input.enabled ?? true,
      revision: 1,
      createdAt: now,
      updatedAt: now,
    };
    this.deps.db.transaction((tx) => {
      if (tx.select({ id: mcpServers.id }).from(mcpServers).where(sameScope(repoId, name)).get()) throw nameTaken(name, repoId);
      tx.insert(mcpServers).values(row).run();
    });
    this.changed(repoId);
    return this.public(row);
  }

  /** An admin changes a server; fields left out stay, and so does every environment value sent back masked. */
  async update(actor: Actor, id: string, input: McpServerChangesInput): Promise<PublicMcpServer> {
    assertAdmin(actor);
    const current = this.row(id);
    const next: Row = { ...current };
    if (input.name !== undefined) next.name = checkName(input.name);
    if (input.command !== undefined) next.command = readField(McpServerChangesInput, "command", input.command)!;
    if (input.args !== undefined) next.args = JSON.stringify(readField(McpServerChangesInput, "args", input.args));
    if (input.env !== undefined) next.env = JSON.stringify(await this.sealEnv(input.env, JSON.parse(current.env)));
    if (input.enabled !== undefined) next.enabled = input.enabled;
    next.updatedAt = new Date();
    const saved = this.deps.db.transaction((tx) => {
      const holder = tx.select({ id: mcpServers.id }).from(mcpServers).where(sameScope(current.repoId, next.name)).get();
      if (holder && holder.id !== id) throw nameTaken(next.name, current.repoId);
      // Counted in the database, so two edits at once still make two revisions.
      return tx
        .update(mcpServers)
        .set({ name: next.name, command: next.command, args: next.args, env: next.env, enabled: next.enabled, updatedAt: next.updatedAt, revision: current.revision + 1 })
        .where(eq(mcpServers.id, id))
        .returning()
        .get();
    });
    if (!saved) throw notFound("MCP server");
    this.changed(current.repoId);
    return this.public(saved);
  }

  remove(actor: Actor, id: string): void {
    assertAdmin(actor);
    const row = this.row(id);
    this.deps.db.delete(mcpServers).where(eq(mcpServers.id, id)).run();
    this.changed(row.repoId);
  }

  /**
   * The servers a session of the repo gets, by name: the global ones and the repo's own, the
   * repo's winning on a name clash (so a disabled one of the repo's turns a global one off
   * there), enabled ones only.
   */
  effective(repoId: string): EffectiveMcpServer[] {
    const rows = this.deps.db
      .select()
      .from(mcpServers)
      .where(or(isNull(mcpServers.repoId), eq(mcpServers.repoId, repoId)))
      .orderBy(asc(mcpServers.name))
      .all();
    const byName = new Map<string, Row>();
    for (const row of rows) if (row.repoId !== null || !byName.has(row.name)) byName.set(row.name, row);
    return [...byName.values()]
      .filter((row) => row.enabled)
      .map((row) => ({ id: row.id, name: row.name, command: row.command, args: JSON.parse(row.args) as string[], revision: row.revision }));
  }

  /** What starts the repo's server `name` in a pod, its environment opened; null when the repo's sessions get no such server. */
  async launch(repoId: string, name: string): Promise<McpLaunch | null> {
    const server = this.effective(repoId).find((s) => s.name === name);
    if (!server) return null;
    const sealed = JSON.parse(this.row(server.id).env) as Record<string, string>;
    const env: Record<string, string> = {};
    for (const [key, value] of Object.entries(sealed)) env[key] = await this.deps.box.open(value);
    return { command: server.command, args: server.args, env };
  }

  private row(id: string): Row {
    const row = this.deps.db.select().from(mcpServers).where(eq(mcpServers.id, id)).get();
    if (!row) throw notFound("MCP server");
    return row;
  }

  private public(row: Row): PublicMcpServer {
    const env: Record<string, string> = {};
    for (const key of Object.keys(JSON.parse(row.env) as Record<string, string>)) env[key] = SECRET_MASK;
    return {
      id: row.id,
      name: row.name,
      repoId: row.repoId,
      command: row.command,
      args: JSON.parse(row.args),
      env,
      enabled: row.enabled,
      createdAt: row.createdAt.toISOString(),
      updatedAt: row.updatedAt.toISOString(),
    };
  }

  /** The new environment, sealed: a masked value keeps the stored one of that name; any other is sealed anew. */
  private async sealEnv(given: Record<string, string>, stored: Record<string, string>): Promise<Record<string, string>> {
    const names = Object.keys(given);
    readField(McpServerChangesInput, "env", given);
    const sealed: Record<string, string> = {};
    for (const name of names) {
      const value = given[name]!;
      if (name.length > MAX_ENV_NAME || !ENV_NAME.test(name)) {
        throw invalid("env", `${JSON.stringify(name.slice(0, 40))} is not a variable name: letters, digits and _, not starting with a digit.`);
      }
      if (name.startsWith(LAUNCHER_PREFIX)) throw invalid("env", `Names starting ${LAUNCHER_PREFIX} are kept for the launcher that starts the server.`);
      if (value.startsWith(MASK_PREFIX)) {
        if (stored[name] === undefined) throw invalid("env", `${name} has no stored value to keep; give its value.`);
        sealed[name] = stored[name];
        continue;
      }
      if (value.length > MAX_ENV_VALUE || value.includes("\0")) {
        throw invalid("env", `The value of ${name} must be text of at most ${MAX_ENV_VALUE} characters without NUL.`);
      }
      sealed[name] = await this.deps.box.seal(value);
    }
    return sealed;
  }

  private changed(repoId: string | null): void {
    // Topic: the repo, or "global"; the payload says which.
    this.deps.bus.publish("session.files-changed", repoId ?? "global", { repoId });
  }
}

/** The name as its schema reads it, and not Pier's own. */
function checkName(name: string): string {
  readField(McpServerChangesInput, "name", name);
  if (RESERVED.has(name)) throw invalid("name", `The name ${name} is Pier's own MCP endpoint; pick another.`);
  return name;
}

function sameScope(repoId: string | null, name: string) {
  return and(eq(mcpServers.name, name), repoId === null ? isNull(mcpServers.repoId) : eq(mcpServers.repoId, repoId));
}

function nameTaken(name: string, repoId: string | null): AppError {
  return new AppError(409, "name_taken", `An MCP server named ${name} already exists ${repoId ? "for this repository" : "globally"}.`, "name");
}
