import type { reviewComments } from "./tables.ts";

/** A comment on a line of a session's diff, as its row holds it. */
export type ReviewComment = typeof reviewComments.$inferSelect;
