import { eq } from "drizzle-orm";
import type { Db } from "../infra/db.ts";
import { repoDir } from "../repos/layout.ts";
import { listRepos, type Repo } from "../repos/repos.ts";
import type { OrphanPod, Pod, Progress, Runtime } from "../runtime/runtime.ts";
import { pods } from "./tables.ts";

export interface PodView {
  state: "running" | "stopped" | "missing";
  image: string;
  containerId: string | null;
}

/**
 * Each repo's pod: provisioned through the runtime on demand, recorded here, reconciled with
 * what the engine really has, and stopped when no session has used it for a while.
 */
export class Pods {
  private lastOrphans: OrphanPod[] = [];

  constructor(
    private db: Db,
    private runtime: Runtime,
    private dataDir: string,
    private defaultImage: string,
  ) {}

  imageFor(repo: Repo): string {
    return repo.image ?? this.defaultImage;
  }

  /** The repo's pod, found, started or created; a pod removed behind Pier's back is re-created. */
  async ensure(repo: Repo, progress: Progress): Promise<Pod> {
    const spec = { repoId: repo.id, repoName: repo.name, image: this.imageFor(repo), mountDir: repoDir(this.dataDir, repo.id) };
    const pod = await this.runtime.ensurePod(spec, progress);
    this.record(repo.id, { containerId: pod.id, image: pod.image, state: "running" }, true);
    return pod;
  }

  view(repoId: string): PodView | null {
    const row = this.db.select().from(pods).where(eq(pods.repoId, repoId)).get();
    return row ? { state: row.state, image: row.image, containerId: row.containerId } : null;
  }

  /** Restarts the idle clock: a session of the repo started or ended. */
  touch(repoId: string): void {
    this.db.update(pods).set({ lastActiveAt: new Date() }).where(eq(pods.repoId, repoId)).run();
  }

  /** Brings every recorded pod in line with the engine; returns the containers nobody owns. */
  async reconcile(): Promise<OrphanPod[]> {
    for (const row of this.db.select().from(pods).all()) {
      const status = await this.runtime.inspectPod(row.repoId);
      const next = status
        ? { containerId: status.id, image: status.image, state: status.state }
        : { containerId: null, image: row.image, state: "missing" as const };
      if (next.state !== row.state || next.containerId !== row.containerId) this.record(row.repoId, next, false);
    }
    const known = new Set(listRepos(this.db).map((r) => r.id));
    this.lastOrphans = await this.runtime.listOrphans(known);
    return this.lastOrphans;
  }

  /** Containers labelled as this Pier's whose repo is gone, as of the last reconciliation. */
  orphans(): OrphanPod[] {
    return this.lastOrphans;
  }

  /**
   * Stops running pods whose repo has no live session and whose last session activity is older
   * than the idle time. A pod with a live session is never stopped; `inUse` says which have one.
   */
  async stopIdle(idleMinutes: number, inUse: (repoId: string) => boolean, now = Date.now()): Promise<string[]> {
    const stopped: string[] = [];
    for (const row of this.db.select().from(pods).where(eq(pods.state, "running")).all()) {
      if (now - row.lastActiveAt.getTime() < idleMinutes * 60_000) continue;
      if (inUse(row.repoId)) continue;
      await this.runtime.stopPod(row.repoId);
      this.record(row.repoId, { containerId: row.containerId, image: row.image, state: "stopped" }, false);
      stopped.push(row.repoId);
    }
    return stopped;
  }

  private record(repoId: string, pod: PodView, active: boolean): void {
    const now = new Date();
    this.db
      .insert(pods)
      .values({ repoId, ...pod, lastActiveAt: now, updatedAt: now })
      .onConflictDoUpdate({ target: pods.repoId, set: { ...pod, updatedAt: now, ...(active ? { lastActiveAt: now } : {}) } })
      .run();
  }
}
