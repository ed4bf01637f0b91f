import { lt } from "drizzle-orm";
import { type Actor, assertAdmin } from "../auth/actor.ts";
import { findUser, findUserByUsername } from "../auth/users.ts";
import type { Db } from "../infra/db.ts";
import { errorMessage } from "../infra/errors.ts";
import { newId } from "../infra/ids.ts";
import { pageSize, readCursor } from "../sessions/session-query.ts";
import { type AuditQuery, auditPage, readAuditFilter } from "./audit-query.ts";
import { type AuditAction, type AuditActor, type AuditRow, type AuditTarget, auditActorOf } from "./entry.ts";
import { auditEntries } from "./tables.ts";

/** Words past this are cut: a refused path or a reason comes from outside, and an entry stays small. */
const MAX_TEXT = 500;
/** Rows read at a time for a whole export, so a year of entries is never held at once. */
const EXPORT_BATCH = 500;
const DAY_MS = 86_400_000;

/** What an entry says besides who did what to what. */
export interface AuditMore {
  /** A few words (which way someone signed in, which tool was allowed, why a firing was refused); never a secret's value. */
  detail?: string | null;
  /** The client's address; for a person acting over HTTP it is taken from the actor when left out. */
  address?: string | null;
}

/**
 * The audit log (`pier.audit`): an append-only record of what matters for trust. The domains write
 * an entry after each such act has happened (a hook of one line where they act, or on the bus), and
 * admins read it newest first. Nothing updates an entry; the retention job drops the old ones.
 */
export class AuditLog {
  private readonly ids = new EntryIds();

  constructor(private readonly db: Db) {}

  /**
   * Writes one entry, now. A failure to write (the disk full) is logged and not thrown: the act it
   * records has happened already, and its caller must not answer as if it had not.
   */
  record(by: Actor | AuditActor, action: AuditAction, target: AuditTarget | null, more: AuditMore = {}): void {
    const actor = isDomainActor(by) ? auditActorOf(by) : by;
    const address = more.address !== undefined ? more.address : isDomainActor(by) && by.kind === "person" ? (by.address ?? null) : null;
    const at = Date.now();
    try {
      this.db
        .insert(auditEntries)
        .values({
          id: this.ids.next(at),
          at: new Date(at),
          actorKind: actor.kind,
          actorId: actor.id,
          actorName: cut(actor.name),
          action,
          targetKind: target?.kind ?? null,
          targetId: target?.id ?? null,
          targetName: cut(target?.name ?? null),
          detail: cut(more.detail ?? null),
          address,
        })
        .run();
    } catch (error) {
      console.error(`[pier] the audit log could not record ${action}: ${errorMessage(error)}`);
    }
  }

  /** The agent working in a session, as an entry names it: by the session, after its person. */
  agentOf(session: { id: string; userId: string }): AuditActor {
    return { kind: "agent", id: session.id, name: findUser(this.db, session.userId)?.username ?? null };
  }

  /**
   * Whoever tried to sign in as `username`, as an entry names them: the person of that name, or
   * no one when nobody has it (what was typed is not kept: it may be a password in the wrong field).
   */
  personNamed(username: string | null): AuditActor {
    const user = username === null ? null : findUserByUsername(this.db, username);
    return { kind: "person", id: user?.id ?? null, name: user?.username ?? null };
  }

  /** One page of entries for an admin, newest first, filtered as AuditQuery says; `next` is the following page's cursor. */
  page(actor: Actor, query: AuditQuery): { entries: AuditRow[]; next: string | null } {
    assertAdmin(actor, "Only an admin can read the audit log.");
    const filter = readAuditFilter(query);
    const limit = pageSize(query.limit);
    return auditPage(this.db, filter, limit, query.cursor);
  }

  /**
   * Every entry the filters take (from the cursor on, when there is one), newest first, a batch at
   * a time, for an export. The query is checked now, before the first batch is read.
   */
  everyEntry(actor: Actor, query: Omit<AuditQuery, "limit">): Iterable<AuditRow[]> {
    assertAdmin(actor, "Only an admin can read the audit log.");
    const filter = readAuditFilter(query);
    if (query.cursor !== undefined) readCursor(query.cursor);
    const db = this.db;
    return (function* () {
      let cursor = query.cursor;
      do {
        const page = auditPage(db, filter, EXPORT_BATCH, cursor);
        yield page.entries;
        cursor = page.next ?? undefined;
      } while (cursor !== undefined);
    })();
  }

  /** Drops the entries older than `days` days (the auditRetentionDays setting). */
  dropOlderThan(days: number, now = Date.now()): void {
    this.db.delete(auditEntries).where(lt(auditEntries.at, new Date(now - days * DAY_MS))).run();
  }
}

/**
 * Entry ids that sort in the order the entries were written within one millisecond (pages are
 * ordered by time, then id): a count that restarts each millisecond, then random characters, so a
 * setting set and cleared in the same millisecond still reads in that order. Only this process
 * writes entries, so the count is its own.
 */
class EntryIds {
  private lastAt = 0;
  private count = 0;

  next(at: number): string {
    this.count = at === this.lastAt ? this.count + 1 : 0;
    this.lastAt = at;
    return `${this.count.toString(36).padStart(4, "0")}${newId()}`;
  }
}

function isDomainActor(by: Actor | AuditActor): by is Actor {
  return "user" in by;
}

function cut(text: string | null): string | null {
  return text !== null && text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT - 1)}…` : text;
}
