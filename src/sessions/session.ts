import type { sessions } from "./tables.ts";

/** One session as its row holds it: what every module that handles a session passes around. */
export type Session = typeof sessions.$inferSelect;
