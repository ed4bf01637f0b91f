import type { Actor } from "../../auth/actor.ts";
import { AppError } from "../../infra/errors.ts";
import type { Pier } from "../../pier.ts";
import type { PublicRun } from "../../runs/runs.ts";
import type { Session } from "../../sessions/session.ts";
import type { RunView } from "../../../views/run-parts.tsx";
import type { AttemptView, DiffStats, RunBatch } from "../../../views/task-runs.tsx";

/**
 * How long a page waits for one attempt's diff (read in its pod, as the review page reads it)
 * before saying it could not be read just now: the task page is drawn again at every run's
 * change, and a slow pod must not hold it.
 */
const DIFF_WAIT_MS = 5_000;

/** Runs with their pull requests as Pier follows them and whether their sessions wait on a person. */
export function runViews(pier: Pier, runs: PublicRun[]): RunView[] {
  const sessionIds = runs.flatMap((run) => (run.sessionId ? [run.sessionId] : []));
  const prs = pier.prs.bySession(sessionIds);
  return runs.map((run) => ({
    run,
    pr: (run.sessionId && prs.get(run.sessionId)?.find((pr) => pr.number === run.prNumber)) || null,
    attention: run.sessionId ? pier.sessions.get(run.sessionId).attention : null,
  }));
}

/**
 * The task's runs the viewer may see, by batch (the attempts started together), newest batch
 * first and attempts in order. Where a batch has several attempts, each one whose agent has
 * turned its work in gets its changes from its session's diff, read through its pod.
 */
export async function taskRunBatches(pier: Pier, actor: Actor, taskId: string): Promise<RunBatch[]> {
  const runs = pier.runs.query(actor, { taskId, limit: "200" }).runs;
  const batches = new Map<string, AttemptView[]>();
  for (const view of runViews(pier, runs)) {
    const batch = batches.get(view.run.batchId) ?? [];
    batch.push(view);
    batches.set(view.run.batchId, batch);
  }
  const ordered = [...batches.entries()].map(([batchId, attempts]) => {
    attempts.sort((a, b) => a.run.attempt - b.run.attempt);
    return { batchId, startedAt: attempts[0]!.run.createdAt, attempts };
  });
  ordered.sort((a, b) => b.startedAt.localeCompare(a.startedAt));
  await Promise.all(ordered.filter((batch) => batch.attempts.length > 1).flatMap((batch) => batch.attempts.map((attempt) => readChanges(pier, actor, attempt))));
  return ordered;
}

/** Fills in an attempt's changes: later while its agent works (or it never started), else from its diff. */
async function readChanges(pier: Pier, actor: Actor, attempt: AttemptView): Promise<void> {
  const { run } = attempt;
  if (!run.sessionId || run.state === "queued" || run.state === "working" || run.state === "fixing") {
    attempt.changes = "later";
    return;
  }
  const timeout = Bun.sleep(DIFF_WAIT_MS).then(() => null);
  const read = pier.sessions.diff(actor, run.sessionId).then(
    (diff): DiffStats => ({
      files: diff.files.length,
      additions: diff.files.reduce((sum, file) => sum + file.additions, 0),
      deletions: diff.files.reduce((sum, file) => sum + file.deletions, 0),
    }),
    (error) => {
      console.error(`[pier] the diff of run ${run.id} could not be read:`, error instanceof Error ? error.message : error);
      return null;
    },
  );
  attempt.changes = await Promise.race([read, timeout]);
}

/** The run a session belongs to, as its page shows it; null for a person's own session, or once the run is gone. */
export function sessionRunView(pier: Pier, actor: Actor, session: Session): RunView | null {
  if (!session.runId) return null;
  try {
    return runViews(pier, [pier.runs.get(actor, session.runId)])[0]!;
  } catch (error) {
    // The run went with its task (deleted): the session stays, as a person's would.
    if (error instanceof AppError && error.status === 404) return null;
    throw error;
  }
}
