import { asc, count, eq } from "drizzle-orm";
import { type Actor, assertAdmin } from "../auth/actor.ts";
import type { AuditLog } from "../audit/audit-log.ts";
import type { Db } from "../infra/db.ts";
import { AppError, invalid, notFound } from "../infra/errors.ts";
import { newId } from "../infra/ids.ts";
import type { SecretBox } from "../infra/secret-box.ts";
import { podRow, pods } from "../pods/tables.ts";
import { repos } from "../repos/tables.ts";
import type { PodKey } from "../runtime/runtime.ts";
import { readEngineHost } from "./engine-host.ts";
import { DEFAULT_CAPACITY, type DockerEngineChangesInput, type NewDockerEngineInput, type TlsFiles } from "./engine-input.ts";
import { dockerEngines } from "./tables.ts";

/** The engine Pier finds as it always has (DOCKER_HOST, else the default socket): its id and its name. */
export const LOCAL_ENGINE = "local";

/** An engine as Pier places pods on it; its TLS material stays sealed in the table. */
export interface DockerEngine {
  id: string;
  name: string;
  host: string;
  hasTls: boolean;
  capacity: number;
  labels: string[];
  draining: boolean;
  createdAt: Date | null;
  updatedAt: Date | null;
}

/** An engine as the API shows it: whether it has TLS client certificates, never any of them. */
export function publicEngine(engine: DockerEngine, pods: number, state: "ok" | "unreachable" | null) {
  return {
    id: engine.id,
    name: engine.name,
    host: engine.host,
    tls: engine.hasTls,
    capacity: engine.capacity,
    labels: [...engine.labels],
    draining: engine.draining,
    pods,
    ...(state ? { state } : {}),
    createdAt: engine.createdAt?.toISOString() ?? null,
    updatedAt: engine.updatedAt?.toISOString() ?? null,
  };
}

type Row = typeof dockerEngines.$inferSelect;

export interface DockerEnginesDeps {
  db: Db;
  box: SecretBox;
  audit: AuditLog;
  /** How the local engine's address reads (DOCKER_HOST, or the default socket). */
  localHost: string;
}

/**
 * The Docker engines pods are placed on (`pier.dockerEngines`): the local one, always there, and
 * the ones admins add. The only door to docker_engines and to the engine each pod was placed on.
 * The local engine's address is never stored (it is DOCKER_HOST); when an admin changes its
 * capacity, labels or draining, a row of that id keeps those alone. TLS client certificates are
 * sealed before they are written and opened only to make the engine's client.
 */
export class DockerEngines {
  private changeListeners: Array<(engineId: string) => void> = [];

  constructor(private deps: DockerEnginesDeps) {}

  /** `listener` hears of an engine changed or removed (its client is made again from what it is now). */
  onChange(listener: (engineId: string) => void): void {
    this.changeListeners.push(listener);
  }

  /** Every engine: the local one first, then the admins' by name. */
  list(): DockerEngine[] {
    const rows = this.deps.db.select().from(dockerEngines).orderBy(asc(dockerEngines.name)).all();
    const localRow = rows.find((row) => row.id === LOCAL_ENGINE);
    const local: DockerEngine = localRow
      ? { ...fromRow(localRow), host: this.deps.localHost, hasTls: false }
      : { id: LOCAL_ENGINE, name: LOCAL_ENGINE, host: this.deps.localHost, hasTls: false, capacity: DEFAULT_CAPACITY, labels: [], draining: false, createdAt: null, updatedAt: null };
    return [local, ...rows.filter((row) => row.id !== LOCAL_ENGINE).map(fromRow)];
  }

  /** The engine of that id or name, or null. */
  find(idOrName: string): DockerEngine | null {
    return this.list().find((engine) => engine.id === idOrName || engine.name === idOrName) ?? null;
  }

  /** The engine of that id or name, or a 404. */
  get(idOrName: string): DockerEngine {
    const engine = this.find(idOrName);
    if (!engine) throw notFound("Docker engine");
    return engine;
  }

  /** The engine's TLS client files, opened: for its client only. */
  async tlsOf(engineId: string): Promise<TlsFiles | null> {
    const row = this.deps.db.select({ tls: dockerEngines.tls }).from(dockerEngines).where(eq(dockerEngines.id, engineId)).get();
    return row?.tls ? (JSON.parse(await this.deps.box.open(row.tls)) as TlsFiles) : null;
  }

  /** How many pods each engine has (running, stopped or gone behind Pier's back: each stays there). */
  podCounts(): Map<string, number> {
    const rows = this.deps.db.select({ engine: pods.dockerEngine, pods: count() }).from(pods).groupBy(pods.dockerEngine).all();
    return new Map(rows.map((row) => [row.engine, row.pods]));
  }

  /** The engine the person's pod of the repo was placed on, or null when it has not been placed yet. */
  placementOf(key: PodKey): string | null {
    return this.deps.db.select({ engine: pods.dockerEngine }).from(pods).where(podRow(key)).get()?.engine ?? null;
  }

  /**
   * Records where the pod goes before it is made there, so that it stays there: a pod that was
   * never made yet is kept as "missing" until the runtime has made it.
   */
  recordPlacement(key: PodKey, engineId: string, image: string): void {
    const now = new Date();
    this.deps.db
      .insert(pods)
      .values({ repoId: key.repoId, userId: key.userId, dockerEngine: engineId, image, state: "missing", lastActiveAt: now, updatedAt: now })
      .onConflictDoUpdate({ target: [pods.repoId, pods.userId], set: { dockerEngine: engineId, updatedAt: now } })
      .run();
  }

  async create(actor: Actor, input: NewDockerEngineInput): Promise<DockerEngine> {
    assertAdmin(actor);
    readEngineHost(input.host, input.tls !== undefined);
    const tls = input.tls ? await this.deps.box.seal(JSON.stringify(input.tls)) : null;
    const now = new Date();
    const row: Row = {
      id: newId(),
      name: input.name,
      host: input.host,
      tls,
      capacity: input.capacity ?? DEFAULT_CAPACITY,
      labels: JSON.stringify(input.labels ?? []),
      draining: input.draining ?? false,
      createdAt: now,
      updatedAt: now,
    };
    this.deps.db.transaction((tx) => {
      if (input.name === LOCAL_ENGINE || tx.select({ id: dockerEngines.id }).from(dockerEngines).where(eq(dockerEngines.name, input.name)).get()) throw nameTaken(input.name);
      tx.insert(dockerEngines).values(row).run();
    });
    this.deps.audit.record(actor, "docker_engine_added", engineTarget(row), { detail: row.host });
    return fromRow(row);
  }

  /** What is left out stays; `tls: false` removes the client certificates. The local engine's name and address are not Pier's to change. */
  async update(actor: Actor, idOrName: string, input: DockerEngineChangesInput): Promise<DockerEngine> {
    assertAdmin(actor);
    const current = this.get(idOrName);
    const local = current.id === LOCAL_ENGINE;
    if (local && input.name !== undefined && input.name !== LOCAL_ENGINE) throw invalid("name", "The local engine is always named local.");
    if (local && input.host !== undefined) throw invalid("host", "The local engine's host is DOCKER_HOST (or the default socket), set where Pier starts.");
    if (local && input.tls) throw invalid("tls", "The local engine is reached as DOCKER_HOST says, without TLS files from here.");
    const host = input.host ?? current.host;
    const keepsTls = input.tls === undefined ? current.hasTls : input.tls !== false;
    if (!local) readEngineHost(host, keepsTls);
    const tls = input.tls ? await this.deps.box.seal(JSON.stringify(input.tls)) : input.tls === false ? null : undefined;
    const now = new Date();
    const changes = {
      name: input.name ?? current.name,
      host: local ? "" : host,
      ...(tls !== undefined ? { tls } : {}),
      capacity: input.capacity ?? current.capacity,
      labels: JSON.stringify(input.labels ?? current.labels),
      draining: input.draining ?? current.draining,
      updatedAt: now,
    };
    this.deps.db.transaction((tx) => {
      const clash = tx.select({ id: dockerEngines.id }).from(dockerEngines).where(eq(dockerEngines.name, changes.name)).get();
      if ((clash && clash.id !== current.id) || (!local && changes.name === LOCAL_ENGINE)) throw nameTaken(changes.name);
      tx.insert(dockerEngines)
        .values({ id: current.id, tls: null, createdAt: now, ...changes })
        .onConflictDoUpdate({ target: dockerEngines.id, set: changes })
        .run();
    });
    this.deps.audit.record(actor, "docker_engine_changed", { kind: "docker_engine", id: current.id, name: changes.name }, { detail: changeWords(input) });
    for (const listener of this.changeListeners) listener(current.id);
    return this.get(current.id);
  }

  /** Removes an engine nothing is on: no pod placed there, no repo pinned to it. The local engine stays. */
  remove(actor: Actor, idOrName: string): void {
    assertAdmin(actor);
    const engine = this.get(idOrName);
    if (engine.id === LOCAL_ENGINE) throw new AppError(409, "engine_is_local", "The local engine cannot be removed; drain it to keep new pods off it.");
    this.deps.db.transaction((tx) => {
      const placed = tx.select({ pods: count() }).from(pods).where(eq(pods.dockerEngine, engine.id)).get()?.pods ?? 0;
      if (placed > 0) {
        throw new AppError(409, "engine_has_pods", `The Docker engine ${engine.name} still has ${placed} pod${placed === 1 ? "" : "s"}; drain it and move or remove them before removing it.`);
      }
      const pinned = tx.select({ name: repos.name }).from(repos).where(eq(repos.dockerEngine, engine.id)).all();
      if (pinned.length > 0) {
        throw new AppError(409, "engine_pinned", `Repositories are pinned to the Docker engine ${engine.name} (${pinned.map((r) => r.name).join(", ")}); pin them elsewhere first.`);
      }
      tx.delete(dockerEngines).where(eq(dockerEngines.id, engine.id)).run();
    });
    this.deps.audit.record(actor, "docker_engine_removed", { kind: "docker_engine", id: engine.id, name: engine.name });
    for (const listener of this.changeListeners) listener(engine.id);
  }
}

function fromRow(row: Row): DockerEngine {
  return {
    id: row.id,
    name: row.name,
    host: row.host,
    hasTls: row.tls !== null,
    capacity: row.capacity,
    labels: JSON.parse(row.labels) as string[],
    draining: row.draining,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

function nameTaken(name: string): AppError {
  return new AppError(409, "engine_name_taken", `There is a Docker engine named ${name} already.`, "name");
}

function engineTarget(row: Row) {
  return { kind: "docker_engine", id: row.id, name: row.name };
}

/** What an admin changed, for the audit log: the fields, never the TLS files. */
function changeWords(input: DockerEngineChangesInput): string {
  return Object.keys(input).join(", ");
}
