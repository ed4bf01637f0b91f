import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

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
