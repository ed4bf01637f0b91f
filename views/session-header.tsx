import type { PropsWithChildren } from "@kitajs/html";
import type { Repo } from "../src/repos/repos.ts";
import type { Session } from "../src/sessions/session.ts";

const STATE_LABEL: Record<Session["state"], string> = {
  provisioning: "Starting",
  active: "Active",
  ended: "Ended",
  failed: "Failed",
};

export function StatePill(props: { state: Session["state"] }) {
  return (
    <span class={`pill pill-${props.state}`} safe>
      {STATE_LABEL[props.state]}
    </span>
  );
}

/**
 * The header of a session's own pages (the session, its review): the page's title with the
 * session's state, then what the page shows below it (facts, actions).
 */
export function SessionHeader(props: PropsWithChildren<{ title: string; state: Session["state"]; lookingSessionId?: string }>) {
  return (
    <header class="session-header">
      <div class="session-title" data-looking-session={props.lookingSessionId}>
        <h1 safe>{props.title}</h1>
        <StatePill state={props.state} />
      </div>
      {props.children}
    </header>
  );
}

/** A header's fact of where the work is: the repository, linked to its page. */
export function RepoFact(props: { repo: Repo }) {
  return (
    <div>
      <dt>Repository</dt>
      <dd>
        <a href={`/repos/${props.repo.id}`} safe>
          {props.repo.name}
        </a>
      </dd>
    </div>
  );
}

/** A session's first facts: its repository and its branch. */
export function SessionPlaceFacts(props: { session: Session; repo: Repo }) {
  return (
    <>
      <RepoFact repo={props.repo} />
      <div>
        <dt>Branch</dt>
        <dd class="mono wrap" safe>
          {props.session.branch}
        </dd>
      </div>
    </>
  );
}
