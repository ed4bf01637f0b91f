import type { GitHub } from "../github/client.ts";
import type { Pier } from "../pier.ts";
import type { PublicPr } from "../prs/pull-requests.ts";
import type { SessionEvent } from "../sessions/host.ts";
import type { RunState } from "../runs/tables.ts";
import type { PublicTask } from "../tasks/tasks.ts";
import { eventStream } from "./event-stream.ts";

/**
 * What the session page hears: provisioning progress and the state the session settles in, each
 * change of one of its pull requests, whether GitHub is limiting the rate of Pier's requests
 * (with when checks resume, as an ISO time), each change of the task it is linked to (null
 * once that task is deleted), its cost whenever Pier's model gateway records a response, and each
 * step of the unattended run it belongs to, if any.
 */
export type SessionStreamEvent =
  | SessionEvent
  | { type: "pr"; pr: PublicPr }
  | { type: "github"; rateLimitedUntil: string | null }
  | { type: "task"; taskId: string; task: PublicTask | null }
  /** How Pier's copy of Claude Code for the session's pod stands: being fetched, failed, or null (fine). */
  | { type: "claude-code"; notice: string | null }
  /** The session's cost after a model response outside the chat (Claude Code through Pier's gateway). */
  | { type: "cost"; sessionCostUsd: number }
  /** The unattended run the session belongs to moved on (its state, a round, its pull request). */
  | { type: "run"; runId: string; state: RunState };

/**
 * The GitHub client only remembers a rate limit (nothing is published when one starts), so an
 * open stream looks at it this often and says when it changed.
 */
const RATE_LIMIT_CHECK_MS = 10_000;

/** When checks of pull requests resume, while GitHub is limiting the rate; null when it is not. */
export function rateLimitedUntil(github: GitHub, now = Date.now()): string | null {
  const limit = github.rateLimit;
  return limit && limit.until > now ? new Date(limit.until).toISOString() : null;
}

/**
 * Server-sent events for one session: provisioning progress, then the state it settles in, and
 * from then on its pull requests' changes and its task's. A session that is already settled gets
 * its state at once, and every stream starts with GitHub's rate limit as it stands.
 */
export function sessionEventStream(pier: Pier, sessionId: string, abort: AbortSignal): Response {
  return eventStream<SessionStreamEvent>(pier.bus, abort, (send) => {
    // What the live session's host has seen so far; without a host, the session settled long
    // ago (or before a restart): say how it stands. Then live events, with nothing in between.
    const host = pier.hosts.get(sessionId);
    if (host) for (const event of host.snapshot()) send(event);
    else {
      const session = pier.sessions.get(sessionId);
      if (session.state !== "provisioning") send({ type: "state", state: session.state, error: session.error ?? undefined });
    }
    let limitedUntil = rateLimitedUntil(pier.github);
    send({ type: "github", rateLimitedUntil: limitedUntil });
    const checkRateLimit = setInterval(() => {
      const now = rateLimitedUntil(pier.github);
      if (now === limitedUntil) return;
      limitedUntil = now;
      send({ type: "github", rateLimitedUntil: now });
    }, RATE_LIMIT_CHECK_MS);
    // The link can change while the page is open (nothing is published when it does), so each
    // task event is checked against the link as it stands, and against the task last told of,
    // whose deletion clears nothing on the session.
    let toldOf = pier.sessions.linkedTaskOf(sessionId);
    // Pier's copy of Claude Code: said when it changes (progress comes every few megabytes).
    const { repoId, userId, runId } = pier.sessions.get(sessionId);
    let claudeCodeNotice: string | null = null;
    const tellClaudeCode = async () => {
      const notice = await pier.claudeCode.noticeFor({ repoId, userId });
      if (notice === claudeCodeNotice) return;
      claudeCodeNotice = notice;
      send({ type: "claude-code", notice });
    };
    void tellClaudeCode();
    return [
      pier.bus.subscribe("session.progress", sessionId, (step) => send({ type: "progress", ...step })),
      pier.bus.subscribe("session.state", sessionId, ({ state, error }) => send({ type: "state", state, ...(error ? { error } : {}) })),
      pier.bus.subscribe("pr.updated", sessionId, ({ sessionId: _, ...pr }) => send({ type: "pr", pr })),
      pier.bus.subscribe("session.cost", sessionId, ({ sessionCostUsd }) => send({ type: "cost", sessionCostUsd })),
      pier.bus.subscribe("task.updated", null, ({ task, taskId }) => {
        const linked = pier.sessions.linkedTaskOf(sessionId);
        if (taskId !== linked && taskId !== toldOf) return;
        toldOf = linked;
        send({ type: "task", taskId, task });
      }),
      pier.bus.subscribe("claude-code.build", null, () => void tellClaudeCode()),
      // Whoever sees the session sees its run (the same person, or an admin).
      ...(runId ? [pier.bus.subscribe("run.changed", runId, ({ run }) => send({ type: "run", runId: run.id, state: run.state }))] : []),
      () => clearInterval(checkRateLimit),
    ];
  });
}
