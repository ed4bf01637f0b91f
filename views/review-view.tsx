import type { ModelCost } from "../src/costs/session-costs.ts";
import type { Repo } from "../src/repos/repos.ts";
import { type FilePatch, type PatchLine, commentLine } from "../src/reviews/patch.ts";
import type { ReviewComment } from "../src/reviews/review-comment.ts";
import type { Session } from "../src/sessions/session.ts";
import type { DiffFile, SessionDiff } from "../src/workspaces/workspace.ts";
import { HxForm, formatDate, formatUsd } from "./components.tsx";
import { Layout, type Viewer } from "./layout.tsx";
import { PrPanel, type PrPanelProps } from "./pr-views.tsx";
import { RecordingDownload, RecordingReplay, TERMINAL_STYLES } from "./session-views.tsx";
import { SessionHeader, SessionPlaceFacts } from "./session-header.tsx";

/** A review comment with its author's name. */
export interface ReviewCommentView {
  comment: ReviewComment;
  author: string;
}

export interface ReviewPageProps {
  viewer: Viewer & { id: string };
  runtime: "docker" | "local";
  session: Session;
  repo: Repo;
  /** The diff against the base with each file's lines, or why it could not be read now. */
  diff: { diff: SessionDiff; patches: Map<string, FilePatch> } | { error: string };
  comments: ReviewCommentView[];
  costs: ModelCost[];
  hasRecording: boolean;
  limitNote: string | null;
  prPanel: Omit<PrPanelProps, "session" | "repo">;
}

const STATUS_LABEL: Record<DiffFile["status"], string> = {
  added: "added",
  modified: "modified",
  deleted: "deleted",
  untracked: "new, not added to git",
  type_changed: "type changed",
};

/**
 * A session's review, ended or not: its diff against the base with a file list that jumps to each
 * file (comments are left on its lines and sent to the agent as one message), the conversation,
 * the replay of its terminal, its pull requests and what it cost by model; Resume once it ended.
 */
export function ReviewPage(props: ReviewPageProps) {
  const { session, repo } = props;
  const base = `/api/sessions/${session.id}`;
  return (
    <Layout title={`Review of ${session.title}`} viewer={props.viewer} runtime={props.runtime} current="/sessions"
      styles={[...TERMINAL_STYLES, "/public/chat.css", "/public/prs.css", "/public/review.css"]}
      scripts={[...(props.hasRecording ? ["/public/vendor/replay.js"] : []), "/public/vendor/prs.js", "/public/vendor/review.js"]}>
      <p class="crumbs">
        <a href={`/sessions/${session.id}`} safe>
          {session.title}
        </a>{" "}
        /
      </p>
      <SessionHeader title="Review" state={session.state}>
        <dl class="session-facts">
          <SessionPlaceFacts session={session} repo={repo} />
          <div>
            <dt>Base</dt>
            <dd class="mono wrap" safe>
              {`${session.baseRef}${session.baseSha ? ` @ ${session.baseSha.slice(0, 10)}` : ""}`}
            </dd>
          </div>
          <div>
            <dt>Time</dt>
            <dd safe>{`${formatDate(session.createdAt)}${session.endedAt ? ` → ${formatDate(session.endedAt)} (${duration(session.createdAt, session.endedAt)})` : ""}`}</dd>
          </div>
          <div>
            <dt>Cost</dt>
            <dd class="mono" safe>
              {formatUsd(session.costUsd)}
            </dd>
          </div>
        </dl>
        <div class="session-actions">
          <a href={`/sessions/${session.id}`} class="button">
            {session.state === "active" ? "Open session" : "Session"}
          </a>
          {session.state === "ended" || session.state === "failed" ? (
            <HxForm action={`/sessions/${session.id}/resume`} label="Resume session">
              <button type="submit" class="primary">
                Resume
              </button>
            </HxForm>
          ) : (
            ""
          )}
        </div>
      </SessionHeader>
      <nav class="review-nav" aria-label="Parts of the review">
        <a href="#changes">Changes</a>
        <a href="#review-comments">Comments</a>
        <a href="#conversation">Conversation</a>
        <a href="#terminal">Terminal</a>
        <a href="#prs">Pull requests</a>
        <a href="#cost">Cost</a>
      </nav>
      <Changes {...props} />
      <CommentTray session={session} comments={props.comments} viewerId={props.viewer.id} />
      <section class="card" id="conversation" aria-labelledby="conversation-title">
        <h2 id="conversation-title">Conversation</h2>
        <div class="review-transcript" data-transcript={`${base}/transcript`}>
          <p class="muted">The conversation is shown with JavaScript; it can also be read as JSON at the transcript address.</p>
        </div>
      </section>
      <section class="card" id="terminal" aria-labelledby="terminal-title">
        <div class="card-head">
          <h2 id="terminal-title">Terminal</h2>
          {props.hasRecording ? <RecordingDownload session={session} /> : ""}
        </div>
        <RecordingReplay session={session} hasRecording={props.hasRecording} limitNote={props.limitNote} />
      </section>
      <section class="card" id="prs" aria-label="Pull requests">
        <h2>Pull requests</h2>
        <PrPanel session={session} repo={repo} {...props.prPanel} />
      </section>
      <CostTable costs={props.costs} total={session.costUsd} />
    </Layout>
  );
}

function Changes(props: ReviewPageProps) {
  const { diff } = props;
  if ("error" in diff) {
    return (
      <section class="card" id="changes">
        <h2>Changes</h2>
        <p class="notice notice-warn" role="alert" safe>
          {`The diff could not be read now: ${diff.error}`}
        </p>
      </section>
    );
  }
  const { files, notice } = diff.diff;
  const byLine = commentsByLine(props.comments);
  const totals = files.reduce((sum, f) => ({ add: sum.add + f.additions, del: sum.del + f.deletions }), { add: 0, del: 0 });
  return (
    <section class="card" id="changes" aria-labelledby="changes-title">
      <h2 id="changes-title">
        Changes <span class="muted small" safe>{`against ${props.session.baseRef}`}</span>
      </h2>
      {files.length === 0 ? <p class="empty">No changes against the base.</p> : ""}
      {notice ? (
        <p class="notice notice-warn" role="note" safe>
          {notice}
        </p>
      ) : (
        ""
      )}
      {files.length > 0 ? (
        <nav id="diff-files" aria-label="Changed files">
          <p class="muted" safe>{`${files.length} file${files.length === 1 ? "" : "s"} · +${totals.add} −${totals.del}`}</p>
          <ol class="diff-nav">
            {files.map((file, i) => (
              <li>
                <a class="diff-nav-link" href={`#file-${i}`}>
                  <span class="mono wrap" safe>{file.path}</span>
                  <span class="diff-counts">
                    <span class="diff-plus" safe>{`+${file.additions}`}</span> <span class="diff-minus" safe>{`−${file.deletions}`}</span>
                  </span>
                </a>
              </li>
            ))}
          </ol>
        </nav>
      ) : (
        ""
      )}
      <div class="diff" data-review={`/api/sessions/${props.session.id}/review`}>
        {files.map((file, i) => (
          <FileDiff file={file} index={i} patch={diff.patches.get(file.path)} comments={byLine} />
        ))}
      </div>
    </section>
  );
}

function FileDiff(props: { file: DiffFile; index: number; patch: FilePatch | undefined; comments: Map<string, ReviewCommentView[]> }) {
  const { file, patch } = props;
  const deleted = file.status === "deleted";
  return (
    <section class="diff-file" id={`file-${props.index}`} data-path={file.path} aria-label={`Changes to ${file.path}`}>
      <header class="diff-file-head">
        <h3 class="mono wrap" safe>
          {file.path}
        </h3>
        <span class="muted" safe>
          {STATUS_LABEL[file.status]}
        </span>
        <span class="diff-counts">
          <span class="diff-plus" safe>{`+${file.additions}`}</span> <span class="diff-minus" safe>{`−${file.deletions}`}</span>
        </span>
        <a href="#diff-files" class="small">
          Files
        </a>
      </header>
      {file.truncated ? <p class="muted">This file changed too much to show whole.</p> : ""}
      {!patch ? (
        <p class="muted">No lines to show.</p>
      ) : (
        <div class="diff-scroll">
          <table class="diff-lines">
            <tbody>{patch.lines.map((line) => <DiffLine line={line} path={file.path} deleted={deleted} comments={props.comments} />)}</tbody>
          </table>
        </div>
      )}
    </section>
  );
}

const LINE_CLASS: Record<PatchLine["kind"], string> = { add: "diff-add", del: "diff-del", context: "diff-context", hunk: "diff-hunk", meta: "diff-meta" };
const MARKER: Record<PatchLine["kind"], string> = { add: "+", del: "-", context: " ", hunk: "", meta: "" };

function DiffLine(props: { line: PatchLine; path: string; deleted: boolean; comments: Map<string, ReviewCommentView[]> }) {
  const { line } = props;
  if (line.kind === "meta" && /^(diff --git|index |--- |\+\+\+ )/.test(line.text)) return "";
  if (line.kind === "hunk" || line.kind === "meta") {
    return (
      <tr class={LINE_CLASS[line.kind]}>
        <td colspan="3" class="diff-code" safe>
          {line.text}
        </td>
      </tr>
    );
  }
  const at = commentLine(line, props.deleted);
  const here = at === null ? [] : (props.comments.get(`${props.path}\n${at}`) ?? []);
  return (
    <>
      <tr class={LINE_CLASS[line.kind]} data-line={at === null ? undefined : String(at)}>
        <td class="diff-ln" safe>
          {line.oldLine === null ? "" : String(line.oldLine)}
        </td>
        <td class="diff-ln">
          {at === null ? (
            <span safe>{line.newLine === null ? "" : String(line.newLine)}</span>
          ) : (
            <button type="button" class="diff-line-button" data-comment-line={String(at)} aria-label={`Comment on line ${at}`} safe>
              {String(line.newLine ?? line.oldLine ?? "")}
            </button>
          )}
        </td>
        <td class="diff-code">
          <span class="diff-marker" aria-hidden="true" safe>
            {MARKER[line.kind]}
          </span>
          <span safe>{line.text}</span>
        </td>
      </tr>
      {here.length > 0 ? (
        <tr class="diff-comments">
          <td colspan="3">
            {here.map((view) => (
              <CommentCard view={view} />
            ))}
          </td>
        </tr>
      ) : (
        ""
      )}
    </>
  );
}

function CommentCard(props: { view: ReviewCommentView; showPlace?: boolean }) {
  const { comment, author } = props.view;
  return (
    <article class="review-comment" id={props.showPlace ? undefined : `comment-${comment.id}`} data-comment={comment.id} data-state={comment.sentAt ? "sent" : "kept"}>
      <p class="review-comment-meta muted">
        {props.showPlace ? (
          <a class="mono" href={`#comment-${comment.id}`} safe>
            {`${comment.path}:${comment.line}`}
          </a>
        ) : (
          ""
        )}
        <span safe>{` ${author} · ${comment.sentAt ? `sent ${formatDate(comment.sentAt)}` : "waiting to be sent"}`}</span>
      </p>
      <p class="review-comment-body" safe>
        {comment.body}
      </p>
    </article>
  );
}

/**
 * The viewer's comments waiting to be sent, with the one button that sends them all to the agent
 * (a plain form: it works without JavaScript), and the review's comments sent before.
 */
function CommentTray(props: { session: Session; comments: ReviewCommentView[]; viewerId: string }) {
  const waiting = props.comments.filter((v) => !v.comment.sentAt && v.comment.userId === props.viewerId);
  const sent = props.comments.filter((v) => v.comment.sentAt);
  const active = props.session.state === "active";
  return (
    <section class="card review-tray" id="review-comments" aria-labelledby="review-comments-title">
      <h2 id="review-comments-title">Comments</h2>
      <p class="muted">
        Choose a line number in the diff to comment on it. Comments wait here until you send them to the session's agent, all in one
        message with each file and line.
      </p>
      <ol class="review-waiting" aria-label="Comments waiting to be sent">
        {waiting.map((view) => (
          <li>
            <CommentCard view={view} showPlace />
          </li>
        ))}
      </ol>
      <p class="empty review-none" hidden={waiting.length > 0}>
        No comments wait to be sent.
      </p>
      {active ? (
        <form method="post" action={`/sessions/${props.session.id}/review/send`} class="review-send" aria-label="Send the review">
          <button type="submit" class="primary" disabled={waiting.length === 0}>
            Send to the agent
          </button>
        </form>
      ) : (
        <p class="notice" role="note">
          The session is not active: resume it to send these comments to its agent. They are kept until then.
        </p>
      )}
      <p class="review-error form-error" role="alert" hidden />
      {sent.length > 0 ? (
        <details class="review-sent">
          <summary safe>{`Sent before (${sent.length})`}</summary>
          <ol>
            {sent.map((view) => (
              <li>
                <CommentCard view={view} showPlace />
              </li>
            ))}
          </ol>
        </details>
      ) : (
        ""
      )}
    </section>
  );
}

function CostTable(props: { costs: ModelCost[]; total: number }) {
  return (
    <section class="card" id="cost" aria-labelledby="cost-title">
      <h2 id="cost-title">Cost by model</h2>
      {props.costs.length === 0 ? (
        <p class="empty">No model was asked anything in this session.</p>
      ) : (
        <div class="table-scroll">
          <table class="cost-table">
            <thead>
              <tr>
                <th scope="col">Model</th>
                <th scope="col">Responses</th>
                <th scope="col">Input</th>
                <th scope="col">Output</th>
                <th scope="col">Cache write</th>
                <th scope="col">Cache read</th>
                <th scope="col">Cost</th>
              </tr>
            </thead>
            <tbody>
              {props.costs.map((row) => (
                <tr>
                  <th scope="row" class="mono" safe>
                    {row.model}
                  </th>
                  <td safe>{String(row.responses)}</td>
                  <td safe>{tokens(row.inputTokens)}</td>
                  <td safe>{tokens(row.outputTokens)}</td>
                  <td safe>{tokens(row.cacheWriteTokens)}</td>
                  <td safe>{tokens(row.cacheReadTokens)}</td>
                  <td class="mono" safe>
                    {preciseUsd(row.costUsd)}
                  </td>
                </tr>
              ))}
            </tbody>
            <tfoot>
              <tr>
                <th scope="row">Total</th>
                <td colspan="5" />
                <td class="mono" safe>
                  {preciseUsd(props.total)}
                </td>
              </tr>
            </tfoot>
          </table>
        </div>
      )}
    </section>
  );
}

function commentsByLine(comments: ReviewCommentView[]): Map<string, ReviewCommentView[]> {
  const map = new Map<string, ReviewCommentView[]>();
  for (const view of comments) {
    const key = `${view.comment.path}\n${view.comment.line}`;
    map.set(key, [...(map.get(key) ?? []), view]);
  }
  return map;
}

/** Cents hide what a few responses cost: under a dollar, four places. */
function preciseUsd(amount: number): string {
  return amount > 0 && amount < 1 ? `$${amount.toFixed(4)}` : formatUsd(amount);
}

function tokens(count: number): string {
  return count.toLocaleString("en-US");
}

function duration(from: Date, to: Date): string {
  const minutes = Math.max(0, Math.round((to.getTime() - from.getTime()) / 60_000));
  return minutes < 60 ? `${minutes} min` : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}
