import { type Static, Type } from "@sinclair/typebox";
import { and, asc, eq, inArray, isNull } from "drizzle-orm";
import type { Actor } from "../auth/actor.ts";
import { MAX_MESSAGE_CHARS } from "../chat/protocol.ts";
import { assertSpeaker } from "../chat/speaker.ts";
import type { Db } from "../infra/db.ts";
import { AppError, forbidden, notFound } from "../infra/errors.ts";
import { newId } from "../infra/ids.ts";
import type { SessionHosts } from "../sessions/hosts.ts";
import type { Sessions } from "../sessions/sessions.ts";
import type { Session } from "../sessions/session.ts";
import type { SessionDiff } from "../workspaces/workspace.ts";
import { contextOf, splitPatch } from "./patch.ts";
import type { ReviewComment } from "./review-comment.ts";
import { reviewMessage } from "./review-message.ts";
import { reviewComments } from "./tables.ts";

/** At most this many comments go in one message, so a review always fits one (see MAX_MESSAGE_CHARS). */
export const MAX_REVIEW_COMMENTS = 30;
export const MAX_COMMENT_CHARS = 2000;
const MAX_PATH_CHARS = 4096;
/** A file the diff lists but shows no lines of (binary, or cut off) takes any line up to this. */
const MAX_LINE = 10_000_000;

/** POST /api/sessions/:id/review. Each comment is checked on its own, so an error names it (comments[2].line). */
export const ReviewInput = Type.Object({
  comments: Type.Array(Type.Unknown(), {
    title: "comments",
    error: "comments must be a list of {path, line, body}.",
    description: `The comments, each {path, line, body}: a file of the session's diff, a line of it the diff shows, and at most ${MAX_COMMENT_CHARS} characters of text.`,
  }),
  send: Type.Optional(Type.Boolean({ title: "send", error: "send must be true or false.", description: "Send the review to the session's agent now, with every comment kept before." })),
});
export type ReviewInput = Static<typeof ReviewInput>;

interface NewComment {
  path: string;
  line: number;
  body: string;
}

export function publicComment(comment: ReviewComment) {
  return {
    id: comment.id,
    sessionId: comment.sessionId,
    userId: comment.userId,
    path: comment.path,
    line: comment.line,
    body: comment.body,
    context: comment.context,
    createdAt: comment.createdAt.toISOString(),
    sentAt: comment.sentAt?.toISOString() ?? null,
  };
}

export interface ReviewDeps {
  db: Db;
  sessions: Sessions;
  /** The live sessions' hosts, whose conversations take the message. */
  hosts: SessionHosts;
}

/**
 * Review comments on a session's diff. A person leaves comments on lines of the diff; they are
 * kept, each on its line, until the person sends the review: then all of theirs that wait go to
 * the session's agent as ONE chat message, as if the person had typed it, with each file and
 * line and the lines around it. Only a live session's agent can take one; an ended session's
 * comments wait for it to be resumed. The session's person and admins may review it, like they
 * may see it (others get 404), but only its person sends a review: it is their message.
 */
export class Reviews {
  constructor(private deps: ReviewDeps) {}

  /** Every comment on the session, oldest first: kept and sent. */
  list(actor: Actor, sessionId: string): ReviewComment[] {
    const session = this.deps.sessions.getFor(actor, sessionId);
    return this.deps.db.select().from(reviewComments).where(eq(reviewComments.sessionId, session.id)).orderBy(asc(reviewComments.createdAt)).all();
  }

  /**
   * Keeps the comments, checked against the session's diff (a bad one is a 400 naming it, and
   * none is kept); with `send`, sends them and every comment the person kept before in one
   * message, and marks them sent. Returns the comments kept now, or all those sent.
   */
  async review(actor: Actor, sessionId: string, input: ReviewInput): Promise<{ comments: ReviewComment[]; message: string | null }> {
    const session = this.deps.sessions.getFor(actor, sessionId);
    if (actor.kind !== "person") throw forbidden("Only a person can review a session.");
    // A sent review is a user turn: only the session's own person's words may be one.
    if (input.send) assertSpeaker(actor, session, "send a review to its agent (your comments can be kept for them)");
    const given = input.comments.map(readComment);
    if (input.send) this.conversationOf(session);
    const waiting = this.waiting(session.id, actor.user.id);
    if (!input.send && given.length === 0) throw invalid("comments", "comments must hold at least one comment to keep.");
    if (input.send && given.length + waiting.length === 0) throw invalid("comments", "comments must hold at least one comment: none is kept to send.");
    if (given.length + waiting.length > MAX_REVIEW_COMMENTS) {
      throw invalid("comments", `comments may hold at most ${MAX_REVIEW_COMMENTS} for one review, counting the ${waiting.length} kept already; send or delete some first.`);
    }
    const diff = given.length > 0 ? await this.deps.sessions.diff(actor, session.id) : null;
    const now = new Date();
    const rows: ReviewComment[] = given.map((comment, i) => ({
      id: newId(),
      sessionId: session.id,
      userId: actor.user.id,
      ...comment,
      context: contextFor(diff!, comment, i),
      createdAt: new Date(now.getTime() + i),
      sentAt: input.send ? now : null,
    }));
    if (!input.send) {
      if (rows.length > 0) this.deps.db.insert(reviewComments).values(rows).run();
      return { comments: rows, message: null };
    }
    const sent = [...waiting, ...rows];
    const message = reviewMessage(sent);
    if (message.length > MAX_MESSAGE_CHARS) throw invalid("comments", "comments make a message longer than the chat takes; send fewer at once.");
    // Checked again: the diff took a while, and the session may have ended meanwhile.
    const conversation = this.conversationOf(this.deps.sessions.get(session.id));
    this.deps.db.transaction((tx) => {
      if (rows.length > 0) tx.insert(reviewComments).values(rows).run();
      if (waiting.length > 0) tx.update(reviewComments).set({ sentAt: now }).where(inArray(reviewComments.id, waiting.map((c) => c.id))).run();
    });
    conversation.send(message);
    return { comments: sent.map((c) => ({ ...c, sentAt: now })), message };
  }

  /** Deletes a kept comment: its author's, or any for an admin. A sent one stays (it was said). */
  remove(actor: Actor, sessionId: string, commentId: string): void {
    const session = this.deps.sessions.getFor(actor, sessionId);
    const comment = this.deps.db.select().from(reviewComments).where(and(eq(reviewComments.id, commentId), eq(reviewComments.sessionId, session.id))).get();
    if (!comment || (comment.userId !== actor.user.id && !(actor.kind === "person" && actor.user.role === "admin"))) throw notFound("comment");
    if (comment.sentAt) throw new AppError(409, "comment_sent", "That comment was already sent to the agent; it stays with the review.");
    this.deps.db.delete(reviewComments).where(eq(reviewComments.id, comment.id)).run();
  }

  /** The person's comments on the session that wait to be sent, oldest first. */
  private waiting(sessionId: string, userId: string): ReviewComment[] {
    return this.deps.db
      .select()
      .from(reviewComments)
      .where(and(eq(reviewComments.sessionId, sessionId), eq(reviewComments.userId, userId), isNull(reviewComments.sentAt)))
      .orderBy(asc(reviewComments.createdAt))
      .all();
  }

  /** The conversation a review is sent to: only an active session's agent can take one. */
  private conversationOf(session: Session) {
    const host = this.deps.hosts.get(session.id);
    if (session.state === "active" && host) return host.chat();
    if (session.state === "provisioning") throw new AppError(409, "session_not_active", "The session is still being prepared; send the review once it is ready.");
    throw new AppError(409, "session_not_active", `The session is ${session.state}; resume it first to send the review to its agent (kept comments wait for that).`);
  }
}

function invalid(field: string, message: string): AppError {
  return new AppError(400, "invalid_review", message, field);
}

/** One comment of the body, or a 400 naming its field. */
function readComment(value: unknown, i: number): NewComment {
  const field = (name: string) => `comments[${i}].${name}`;
  if (!value || typeof value !== "object" || Array.isArray(value)) throw invalid(`comments[${i}]`, `comments[${i}] must be an object {path, line, body}.`);
  const { path, line, body } = value as Record<string, unknown>;
  if (typeof path !== "string" || path.length === 0 || path.length > MAX_PATH_CHARS || /[\x00-\x1f\x7f]/.test(path)) {
    throw invalid(field("path"), `${field("path")} must be the path of a file in the session's diff.`);
  }
  if (typeof line !== "number" || !Number.isInteger(line) || line < 1) throw invalid(field("line"), `${field("line")} must be a positive whole number.`);
  if (typeof body !== "string" || body.trim().length === 0) throw invalid(field("body"), `${field("body")} must say something.`);
  if (body.length > MAX_COMMENT_CHARS) throw invalid(field("body"), `${field("body")} may be at most ${MAX_COMMENT_CHARS} characters.`);
  if (/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/.test(body)) throw invalid(field("body"), `${field("body")} may not hold control characters.`);
  return { path, line, body };
}

/** The comment's place in the diff as context for its message, or a 400 when the diff has no such file or line. */
function contextFor(diff: SessionDiff, comment: NewComment, i: number): string {
  const file = diff.files.find((f) => f.path === comment.path);
  if (!file) throw invalid(`comments[${i}].path`, `comments[${i}].path must be the path of a file in the session's diff; it is not one.`);
  const patch = splitPatch(diff.patch).get(file.path);
  const deleted = file.status === "deleted";
  if (!patch || patch.commentable.size === 0) {
    if (comment.line > MAX_LINE) throw invalid(`comments[${i}].line`, `comments[${i}].line is past the end of any file.`);
    return "";
  }
  if (!patch.commentable.has(comment.line) && !file.truncated) {
    const shown = [...patch.commentable];
    throw invalid(
      `comments[${i}].line`,
      `comments[${i}].line must be a line the diff shows of ${file.path} (between ${Math.min(...shown)} and ${Math.max(...shown)}); ${comment.line} is not one.`,
    );
  }
  return contextOf(patch, comment.line, deleted);
}
