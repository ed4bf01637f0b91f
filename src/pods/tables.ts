import { and, eq } from "drizzle-orm";
import { integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { users } from "../auth/tables.ts";
import { repos } from "../repos/tables.ts";

/**
 * Pier's view of each pod: one per repo and person. The engine is the truth; reconciliation
 * brings this row in line with it (a container removed behind Pier's back becomes "missing").
 */
export const pods = sqliteTable(
  "pods",
  {
    repoId: text("repo_id")
      .notNull()
      .references(() => repos.id, { onDelete: "cascade" }),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    containerId: text("container_id"),
    image: text("image").notNull(),
    /** The Docker engine the pod was placed on (a docker_engines id, or "local"); it stays there. */
    dockerEngine: text("docker_engine").notNull().default("local"),
    state: text("state", { enum: ["running", "stopped", "missing"] }).notNull(),
    /** The content hash of the environment (devcontainer configuration and what it builds from) the container was made from; null: not from a devcontainer. */
    envHash: text("env_hash"),
    /** The devcontainer configuration (as Pier applies it, JSON) the container was made from, for its lifecycle commands. */
    envConfig: text("env_config"),
    /** The container the once-per-pod lifecycle commands (onCreate, updateContent, postCreate) last ran in, and how far ("<container>#<steps ended>", "+" while the next runs). */
    createdCommandsIn: text("created_commands_in"),
    /** The container start (its id and the engine's StartedAt) postStartCommand last ran for. */
    startCommandsFor: text("start_commands_for"),
    /** Last time a session in this pod started or ended: the idle clock starts here. */
    lastActiveAt: integer("last_active_at", { mode: "timestamp_ms" }).notNull(),
    updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.repoId, t.userId] })],
);

/**
 * Repos that had one shared clone before pods were per person. Each person's pod mounts it
 * read-only, so their new clone can bring over the branches of their sessions once.
 */
export const legacyClones = sqliteTable("legacy_clones", {
  repoId: text("repo_id")
    .primaryKey()
    .references(() => repos.id, { onDelete: "cascade" }),
  path: text("path").notNull(),
  migratedAt: integer("migrated_at", { mode: "timestamp_ms" }).notNull(),
});

/**
 * People whose branches were taken from their repo's old shared clone (see legacyClones): their
 * pods mount it no more, and once everyone who had work in it is here, it is removed.
 */
export const legacyImports = sqliteTable(
  "legacy_imports",
  {
    repoId: text("repo_id")
      .notNull()
      .references(() => repos.id, { onDelete: "cascade" }),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    importedAt: integer("imported_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.repoId, t.userId] })],
);

/**
 * Each pod's credential for Pier's read-only smart HTTP of its repo's mirror (/git/<repo id>.git),
 * stored only as SHA-256: one per pod, good for that pod's repo alone, replaced when a fresh one is
 * made and deleted when the pod is removed (see PodCredentials).
 */
export const podCredentials = sqliteTable(
  "pod_credentials",
  {
    repoId: text("repo_id")
      .notNull()
      .references(() => repos.id, { onDelete: "cascade" }),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    credentialHash: text("credential_hash").notNull().unique(),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.repoId, t.userId] })],
);

/** The row of a person's pod of a repo, for a query's where. */
export function podRow(key: { repoId: string; userId: string }) {
  return and(eq(pods.repoId, key.repoId), eq(pods.userId, key.userId));
}
