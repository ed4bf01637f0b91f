import { type Badge, CI_BADGE, REVIEW_BADGE, STATE_BADGE, checkCounts, mergeableBadge, resumeTime, webLink } from "../src/prs/badges.ts";
import type { PublicPr } from "../src/prs/pull-requests.ts";
import type { Repo } from "../src/repos/repos.ts";
import type { Session } from "../src/sessions/session.ts";

function BadgeView(props: { badge: Badge; kind: string }) {
  return (
    <span class={`badge badge-${props.badge.tone}`} data-kind={props.kind} safe>
      {props.badge.label}
    </span>
  );
}

/** Number, state and CI of each pull request of a session, for the lists of sessions. */
export function PrChips(props: { prs: PublicPr[] }) {
  if (props.prs.length === 0) return "";
  return (
    <span class="pr-chips">
      {props.prs.map((pr) => (
        <a class="pr-chip" href={webLink(pr.url) ?? undefined} title={pr.title} data-pr={String(pr.number)}>
          <span class="pr-chip-number" safe>{`#${pr.number}`}</span> <BadgeView badge={STATE_BADGE[pr.state]} kind="state" />
          {pr.ciStatus === "none" ? "" : <> <BadgeView badge={CI_BADGE[pr.ciStatus]} kind="ci" /></>}
        </a>
      ))}
    </span>
  );
}

/**
 * One pull request in the session's panel. src/client/pr-row.ts draws the same thing from a
 * live update; the two keep to the same classes and words (src/prs/badges.ts).
 */
export function PrRow(props: { pr: PublicPr }) {
  const { pr } = props;
  const link = webLink(pr.url);
  const failing = webLink(pr.failingCheckUrl);
  const review = REVIEW_BADGE[pr.reviewStatus];
  const mergeable = mergeableBadge(pr);
  const counts = checkCounts(pr.checks);
  return (
    <li class="pr" data-pr={String(pr.number)} data-ci={pr.ciStatus} data-review={pr.reviewStatus}>
      <a class="pr-title" href={link ?? undefined} target="_blank" rel="noopener noreferrer">
        <span class="pr-number" safe>{`#${pr.number}`}</span> <span safe>{pr.title}</span>
      </a>
      {/* Spaces between the badges, so they read as words and not one run of text. */}
      <div class="pr-badges">
        <BadgeView badge={STATE_BADGE[pr.state]} kind="state" /> <BadgeView badge={CI_BADGE[pr.ciStatus]} kind="ci" />
        {counts ? (
          <>
            {" "}
            <span class="pr-counts muted" safe>
              {counts}
            </span>
          </>
        ) : (
          ""
        )}
        {review ? <> <BadgeView badge={review} kind="review" /></> : ""}
        {mergeable ? <> <BadgeView badge={mergeable} kind="mergeable" /></> : ""}
      </div>
      {failing ? (
        <a class="pr-failing" href={failing} target="_blank" rel="noopener noreferrer">
          First failing check
        </a>
      ) : (
        ""
      )}
      {pr.headBranch ? (
        <p class="pr-branches muted mono wrap" safe>
          {`${pr.headBranch} → ${pr.baseBranch}`}
        </p>
      ) : (
        ""
      )}
    </li>
  );
}

export interface PrPanelProps {
  session: Session;
  repo: Repo;
  prs: PublicPr[];
  /** Whether the viewer may open the session's pull request (their own, active session). */
  canOpen: boolean;
  /** Whether Pier has a GitHub token for the session's person (theirs or the instance's). */
  hasToken: boolean;
  /** While GitHub limits the rate: when checks resume (ISO). */
  rateLimitedUntil: string | null;
  /** https://github.com, or a GitHub Enterprise's address. */
  githubOrigin: string;
  isAdmin: boolean;
}

/**
 * A session's pull requests with their CI and review, kept up to date by src/client/prs.ts from
 * the session's events; opening one, adding one by its link, and asking to be notified.
 */
export function PrPanel(props: PrPanelProps) {
  const { session, repo } = props;
  if (!repo.githubRepo) return <PrSetup repo={repo} isAdmin={props.isAdmin} />;
  const example = `${props.githubOrigin}/${repo.githubRepo}/pull/123`;
  return (
    <div class="prs" data-prs={session.id}>
      <RateLimitNotice until={props.rateLimitedUntil} />
      {props.hasToken ? (
        ""
      ) : (
        <p class="notice-warn" role="note">
          {"Pier has no GitHub token to follow these pull requests with: add "}
          <a href="/tokens#credentials">your own</a>
          {props.isAdmin ? (
            <>
              {" or set the instance's in "}
              <a href="/settings">settings</a>.
            </>
          ) : (
            ", or ask an admin to set one in settings."
          )}
        </p>
      )}
      <p class="pr-repo muted">
        {"On GitHub: "}
        <a href={`${props.githubOrigin}/${repo.githubRepo}`} target="_blank" rel="noopener noreferrer" safe>
          {repo.githubRepo}
        </a>
      </p>
      <ul class="pr-list" aria-label="Pull requests of this session">
        {props.prs.map((pr) => (
          <PrRow pr={pr} />
        ))}
      </ul>
      <p class="empty pr-empty" hidden={props.prs.length > 0}>
        No pull requests yet. Links to this repository's pull requests in the terminal or the chat are picked up, and so are
        pull requests from the session's branch.
      </p>
      <p class="visually-hidden" role="status" aria-live="polite" data-pr-announce />
      <div class="pr-actions">
        {props.canOpen ? (
          <button type="button" class="primary" aria-expanded="false" aria-controls="open-pr-form" data-open-pr>
            Open pull request
          </button>
        ) : (
          ""
        )}
        <button type="button" hidden data-pr-notify>
          Notify me of CI and reviews
        </button>
        <p class="muted pr-notify-state" data-pr-notify-state hidden />
      </div>
      {props.canOpen ? <OpenPrForm session={session} repo={repo} /> : ""}
      <form class="pr-add" aria-label="Add a pull request by its link" data-add-pr>
        <label for="pr-add-url">Add a pull request by its link</label>
        <div class="pr-add-row">
          <input id="pr-add-url" name="url" type="url" required placeholder={example} autocomplete="off" aria-describedby="pr-add-error" />
          <button type="submit">Add</button>
        </div>
        <p class="field-error" id="pr-add-error" role="alert" hidden />
      </form>
    </div>
  );
}

/**
 * Pushes the session's branch and opens its pull request; the fields are filled from the
 * session's commits when the form opens (src/client/pr-forms.ts).
 */
function OpenPrForm(props: { session: Session; repo: Repo }) {
  return (
    <form id="open-pr-form" class="pr-open" aria-label="Open a pull request" hidden data-open-pr-form>
      <p class="muted" role="status" data-open-pr-status />
      <div class="field">
        <label for="pr-title">Title</label>
        <input id="pr-title" name="title" type="text" maxlength="256" required />
      </div>
      <div class="field">
        <label for="pr-body">Description</label>
        <textarea id="pr-body" name="body" rows="8" />
      </div>
      <div class="field">
        <label for="pr-base">Into</label>
        <input id="pr-base" name="base" type="text" readonly value={props.repo.defaultBranch} aria-describedby="pr-base-hint" />
        <p class="hint" id="pr-base-hint" safe>
          {`From ${props.session.branch}, pushed first. Pull requests go into the repository's default branch.`}
        </p>
      </div>
      <label class="check">
        <input type="checkbox" name="draft" value="true" /> Open as a draft
      </label>
      <p class="form-error" role="alert" hidden data-open-pr-error />
      <div class="actions">
        <button type="submit" class="primary">
          Open pull request
        </button>
        <button type="button" data-open-pr-cancel>
          Cancel
        </button>
      </div>
    </form>
  );
}

/** What pull request tracking needs, for a repo that is not on GitHub as far as Pier knows. */
function PrSetup(props: { repo: Repo; isAdmin: boolean }) {
  return (
    <div class="prs pr-setup">
      <p>Pull requests are followed for repositories on GitHub. For this session's, Pier needs:</p>
      <ul>
        <li>
          {"the repository's GitHub repository (owner/name) in "}
          <a href={`/repos/${props.repo.id}`}>its settings</a>
          {props.isAdmin ? "" : " (an admin sets it)"};
        </li>
        <li>
          {"a GitHub token: "}
          <a href="/tokens#credentials">your own</a>
          {", or the instance's in settings."}
        </li>
      </ul>
    </div>
  );
}

/** Shown while GitHub limits the rate; src/client/prs.ts shows and hides it as that changes. */
function RateLimitNotice(props: { until: string | null }) {
  return (
    <p class="notice-warn pr-rate-limit" role="status" hidden={!props.until} data-pr-rate-limit>
      {"GitHub is limiting the rate of Pier's requests; checks resume at "}
      <time datetime={props.until ?? ""}>
        {props.until ? resumeTime(props.until) : ""}
      </time>
      .
    </p>
  );
}
