import { REASONS } from "../attention/attention.ts";
import type { NeedsYouReason, RunRaise } from "../attention/raised.ts";
import type { PierEvents } from "../infra/events.ts";

/**
 * What a device is sent for one raise, as JSON: the service worker shows `title` and `body`, opens
 * `url` (a path on Pier's own origin) when tapped, and replaces an earlier notification of the
 * same `tag` (the page's own notification uses the same, so a session shows once).
 */
export interface PushMessage {
  title: string;
  body: string;
  url: string;
  tag: string;
  reason: NeedsYouReason;
  sessionId: string | null;
}

const RUN_PHRASES: Record<RunRaise, string> = {
  run_awaiting_approval: "the run's pull request passed its checks and waits for your approval",
  run_done: "the run is done",
  run_failed: "the run failed",
};

/** What a message is made from: the session's title and repository, or for a run with no session, its task's. */
export interface MessageSources {
  session(id: string): { title: string; repoId: string };
  task(id: string): { title: string; repoId: string | null };
  repoName(id: string): string;
}

// A phone shows a line or two; the push service takes 4 KB in all.
const MAX_TITLE = 120;
const MAX_BODY = 400;

export function pushMessage(raised: PierEvents["attention.raised"], sources: MessageSources): PushMessage {
  const { sessionId, reason, run } = raised;
  const about = sessionId ? sources.session(sessionId) : sources.task(run!.taskId);
  const phrase = reason in REASONS ? REASONS[reason as keyof typeof REASONS] : RUN_PHRASES[reason as RunRaise];
  const detail = run?.detail ? `: ${run.detail.replace(/\.$/, "")}` : "";
  const where = about.repoId ? `${sources.repoName(about.repoId)}: ` : "";
  return {
    title: clip(about.title, MAX_TITLE),
    body: clip(`${where}${capitalize(phrase)}${detail}.`, MAX_BODY),
    url: sessionId ? `/sessions/${sessionId}` : `/tasks/${run!.taskId}`,
    tag: `pier-${sessionId ?? run!.id}`,
    reason,
    sessionId,
  };
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
