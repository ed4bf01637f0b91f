/** Every table, gathered for Drizzle; each domain module owns and defines its own. */
export * from "../auth/tables.ts";
export * from "../settings/tables.ts";
export * from "../repos/tables.ts";
export * from "../pods/tables.ts";
export * from "../sessions/tables.ts";
export * from "../chat/tables.ts";
export * from "../costs/tables.ts";
