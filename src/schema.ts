/**
 * Every table, gathered for drizzle-kit (drizzle.config.ts), which generates the migrations in
 * drizzle/ from them. Each domain module owns and defines its own tables; the database itself
 * (src/infra/db.ts) needs none of them.
 */
export * from "./auth/tables.ts";
export * from "./settings/tables.ts";
export * from "./repos/tables.ts";
export * from "./pods/tables.ts";
export * from "./sessions/tables.ts";
export * from "./chat/tables.ts";
export * from "./costs/tables.ts";
export * from "./prs/tables.ts";
export * from "./tasks/tables.ts";
export * from "./mcp-endpoint/tables.ts";
export * from "./gateway/tables.ts";
export * from "./skills/tables.ts";
export * from "./policies/tables.ts";
export * from "./mcp-servers/tables.ts";
export * from "./attention/tables.ts";
export * from "./reviews/tables.ts";
export * from "./notices/tables.ts";
export * from "./runs/tables.ts";
export * from "./triggers/tables.ts";
export * from "./previews/tables.ts";
export * from "./sso/tables.ts";
export * from "./audit/tables.ts";
export * from "./push/tables.ts";
export * from "./agents/tables.ts";
export * from "./docker-engines/tables.ts";
