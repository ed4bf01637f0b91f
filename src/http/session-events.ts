import type { GitHub } from "../github/client.ts";
import type { Pier } from "../pier.ts";
import type { ListeningPort } from "../previews/ports.ts";
import type { PublicPr } from "../prs/pull-requests.ts";
import type { SessionEvent } from "../sessions/host.ts";
import type { RunState } from "../runs/tables.ts";
import { podKeyString } from "../runtime/runtime.ts";
import type { PublicTask } from "../tasks/tasks.ts";
import { LIVE_STATES } from "../sessions/tables.ts";
import { eventStream } from "./event-stream.ts";

/** A port listening in the session's pod, as the session page's preview pane shows it. */
export interface SessionPort extends ListeningPort {
  /** Where the page opens it: Pier's /sessions/:id/ports/:port, which hands the preview its grant. */
  url: string;
  /** The preview's own origin, where its pages speak from: the pane takes their messages from there only. */
  origin: string;
  /** Another live session of the same person and repo, whose process holds the port: shown "from <title>". */
  from: { sessionId: string; title: string } | null;
}

/**
 * What the session page hears: provisioning progress and the state the session settles in, each
 * change of one of its pull requests, whether GitHub is limiting the rate of Pier's requests
 * (with when checks resume, as an ISO time), each change of the task it is linked to (null
 * once that task is deleted), its cost whenever Pier's model gateway records a response, each
 * step of the unattended run it belongs to, if any, and, while it is live, the ports listening in its pod
 * and how a move of its pod to another Docker engine goes.
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
  | { type: "run"; runId: string; state: RunState }
  /** What listens in the session's pod: said as the stream opens, then at each change (a server started or stopped). */
  | { type: "ports"; ports: SessionPort[] }
  /** The session's pod is being moved to another Docker engine (said as the stream opens, while it is), has moved, or could not be. */
  | { type: "pod-move"; state: "moving" | "moved" | "failed"; notice: string };

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
 * The pod's ports as the session's page shows them: each opened through the session, and one a
 * process of another of the person's live sessions holds marked with that session's title. The
 * session id comes from the pod (its process's environment), so a title is shown only for a
 * session of that same pod: the pod cannot name anyone else's.
 */
function sessionPorts(pier: Pier, session: { id: string; repoId: string; userId: string }, ports: ListeningPort[], https: boolean): SessionPort[] {
  return ports.map((port) => {
    const other = port.sessionId && port.sessionId !== session.id ? pier.sessions.findLive(port.sessionId) : null;
    const from = other && other.repoId === session.repoId && other.userId === session.userId ? { sessionId: other.id, title: other.title } : null;
    const origin = pier.previews.originOf({ sessionId: session.id, port: port.port }, https);
    return { ...port, url: `/sessions/${session.id}/ports/${port.port}`, origin, from };
  });
}

/**
 * Server-sent events for one session: provisioning progress, then the state it settles in, and
 * from then on its pull requests' changes and its task's. A session that is already settled gets
 * its state at once, and every stream starts with GitHub's rate limit as it stands. A live
 * session's stream also says which ports listen in its pod, and again at each change; while it is
 * open, a pod without a relay is looked at every few seconds (see PreviewPorts.watch). `https`:
 * the page reached Pier over https, which the previews' origins follow under PIER_PREVIEW_DOMAIN.
 */
export function sessionEventStream(pier: Pier, sessionId: string, abort: AbortSignal, https: boolean): Response {
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
    const session = pier.sessions.get(sessionId);
    const { repoId, userId, runId } = session;
    let claudeCodeNotice: string | null = null;
    const tellClaudeCode = async () => {
      const notice = await pier.claudeCode.noticeFor({ repoId, userId });
      if (notice === claudeCodeNotice) return;
      claudeCodeNotice = notice;
      send({ type: "claude-code", notice });
    };
    void tellClaudeCode();
    // The ports of a live session's pod: as they stand, unless a change is heard first (which is newer).
    const pod = { repoId, userId };
    const watchesPorts = LIVE_STATES.includes(session.state);
    let portsHeard = false;
    const tellPorts = (ports: ListeningPort[]) => send({ type: "ports", ports: sessionPorts(pier, session, ports, https) });
    const moving = watchesPorts ? pier.podMoves.noticeFor(pod) : null;
    if (moving) send({ type: "pod-move", state: "moving", notice: moving });
    if (watchesPorts) {
      void pier.previewPorts.list(pod).then((ports) => {
        if (!portsHeard) tellPorts(ports);
      });
    }
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
      ...(watchesPorts
        ? [
            pier.bus.subscribe("pod.move", podKeyString(pod), ({ state, notice }) => send({ type: "pod-move", state, notice })),
            pier.previewPorts.watch(pod),
            pier.bus.subscribe("preview.ports", podKeyString(pod), ({ ports }) => {
              portsHeard = true;
              tellPorts(ports);
            }),
          ]
        : []),
      () => clearInterval(checkRateLimit),
    ];
  });
}
