import { and, eq } from "drizzle-orm";
import type { Db } from "../infra/db.ts";
import { podRow, pods } from "../pods/tables.ts";
import type { PodKey } from "../runtime/runtime.ts";
import { podMoves } from "./tables.ts";

/** An unfinished move of a pod, as written down (see the podMoves table for what each step means). */
export type MoveRecord = typeof podMoves.$inferSelect;

/**
 * The door to pod_moves: each move of a pod to another engine is written down before anything
 * stops, and each step it reaches as it reaches it, with where the pod is placed then (in one
 * transaction, so the step and the placement never disagree). A move that ends is forgotten.
 */
export class MoveRecords {
  constructor(private db: Db) {}

  /** The move is starting: the pod is still placed on `fromEngine`. Replaces an earlier record of the pod (the move settled it first). */
  begin(key: PodKey, fromEngine: string, toEngine: string, image: string): MoveRecord {
    const record: MoveRecord = { ...key, fromEngine, toEngine, image, step: "copying", startedAt: new Date() };
    this.db
      .insert(podMoves)
      .values(record)
      .onConflictDoUpdate({ target: [podMoves.repoId, podMoves.userId], set: record })
      .run();
    return record;
  }

  /** The copy on the target is whole: the pod is placed there from now on. */
  placedOnTarget(record: MoveRecord): MoveRecord {
    return this.step(record, "placed", record.toEngine);
  }

  /** The pod could not be made on the target: it is placed back where it was, and what is on the target is to be removed. */
  backToOrigin(record: MoveRecord): MoveRecord {
    return this.step(record, "copying", record.fromEngine);
  }

  /** The pod has run on the target: the old copy where it was is to be removed. */
  madeOnTarget(record: MoveRecord): MoveRecord {
    return this.step(record, "made", record.toEngine);
  }

  /** Nothing of the move is left to do. */
  finished(key: PodKey): void {
    this.db.delete(podMoves).where(moveOf(key)).run();
  }

  of(key: PodKey): MoveRecord | null {
    return this.db.select().from(podMoves).where(moveOf(key)).get() ?? null;
  }

  all(): MoveRecord[] {
    return this.db.select().from(podMoves).all();
  }

  private step(record: MoveRecord, step: MoveRecord["step"], placedOn: string): MoveRecord {
    this.db.transaction((tx) => {
      tx.update(podMoves).set({ step }).where(moveOf(record)).run();
      tx.update(pods).set({ dockerEngine: placedOn, updatedAt: new Date() }).where(podRow(record)).run();
    });
    return { ...record, step };
  }
}

/** The move of a person's pod, for a query's where. */
function moveOf(key: PodKey) {
  return and(eq(podMoves.repoId, key.repoId), eq(podMoves.userId, key.userId));
}
