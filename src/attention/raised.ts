import type { SessionAttention } from "../sessions/tables.ts";

/** What an unattended run raises for its person: its pull request awaits their approval, or it is over. */
export const RUN_RAISES = ["run_awaiting_approval", "run_done", "run_failed"] as const;
export type RunRaise = (typeof RUN_RAISES)[number];

/** Why a person is told that something needs them: a session's reason, or a run's. */
export type NeedsYouReason = SessionAttention | RunRaise;

declare module "../infra/events.ts" {
  interface PierEvents {
    /**
     * Something of a person's needs them, once per raise (topic: the session id, or the run id for a
     * run that has no session): a session's reason as it is marked (turn ended, approval, bell,
     * quiet, feedback…), or a run awaiting approval, done or failed. `run` names the run for those.
     */
    "attention.raised": {
      sessionId: string | null;
      userId: string;
      reason: NeedsYouReason;
      run?: { id: string; taskId: string; detail: string | null };
    };
  }
}
