import { integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { users } from "../auth/tables.ts";
import { repos } from "../repos/tables.ts";

/**
 * The Docker engines admins add beside the local one (which is never stored: it is whatever
 * DOCKER_HOST or the default socket gives). `host` is a DOCKER_HOST address; `tls` the client's
 * CA, certificate and key as one JSON object, sealed (see infra/secret-box); `labels` a JSON array
 * of text. A draining engine gets no new pods.
 */
export const dockerEngines = sqliteTable("docker_engines", {
  id: text("id").primaryKey(),
  name: text("name").notNull().unique(),
  host: text("host").notNull(),
  tls: text("tls"),
  /** How many pods it takes; placement prefers the engine with the most room left. */
  capacity: integer("capacity").notNull(),
  labels: text("labels").notNull(),
  draining: integer("draining", { mode: "boolean" }).notNull(),
  createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
  updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
});

/**
 * A move of a person's pod to another engine (see PodMoves) that has not finished: what it was
 * doing is kept here, so a Pier killed in the middle of it finishes or undoes it when it starts
 * again. One per pod. `step` is how far it got, and says which copy of the workspace is the
 * pod's and which is to be removed:
 * - "copying": the pod is still placed on `fromEngine`, its workspace there; whatever of it is on
 *   `toEngine` (a copy cut off, a container) is not its own and is removed.
 * - "placed": the copy on `toEngine` is whole and the pod is placed there, not yet made there;
 *   the workspace on `fromEngine` is still whole too. The pod is made on `toEngine`, or, if it
 *   cannot be, placed back on `fromEngine` ("copying" again).
 * - "made": the pod has run on `toEngine`; its old container and workspace on `fromEngine` are removed.
 * `image` is the pod's image, which both engines have: the helper containers that empty a
 * workspace are made from it.
 */
export const podMoves = sqliteTable(
  "pod_moves",
  {
    repoId: text("repo_id")
      .notNull()
      .references(() => repos.id, { onDelete: "cascade" }),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    fromEngine: text("from_engine").notNull(),
    toEngine: text("to_engine").notNull(),
    image: text("image").notNull(),
    step: text("step", { enum: ["copying", "placed", "made"] }).notNull(),
    startedAt: integer("started_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.repoId, t.userId] })],
);
