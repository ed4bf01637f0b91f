import { statfsSync } from "node:fs";
import { relative } from "node:path";
import { type PodKey, podKeyString } from "../runtime/runtime.ts";
import { type PodShell, podScript, runPodScript } from "../workspaces/pod-script.ts";

const STOP_WRITERS = podScript("stop-writers.sh");
const MiB = 1024 * 1024;
/** A file that grows this much in the script's fifth of a second (5 MiB/s) is filling the disk. */
const MIN_GROWTH = MiB;
/** Without PIER_DISK_RESERVE_MB: 5% of the disk, but never more than this. */
const DEFAULT_RESERVE_CAP = 1024 * MiB;
/** After a look that found nothing writing, the next waits this long, unless more space went meanwhile (du is not free). */
const QUIET_LOOK_MS = 10_000;
/** How long the script may take in one pod (du of a large workspace is the slow part). */
const SCRIPT_TIMEOUT_MS = 30_000;

/** The free space kept from pods: PIER_DISK_RESERVE_MB, else 5% of the disk up to 1 GiB. */
export function reserveBytes(reserveMb: number | null, diskBytes: number): number {
  return reserveMb !== null ? reserveMb * MiB : Math.min(DEFAULT_RESERVE_CAP, Math.floor(diskBytes * 0.05));
}

export interface LivePod {
  key: PodKey;
  /** Its live sessions: their person is told there. */
  sessionIds: string[];
}

export interface DiskWatchDeps {
  workspacesDir: string;
  reserveMb: number | null;
  /** The pods that have a live session. */
  livePods(): LivePod[];
  /** The pod's shell while it runs (a stopped one is not started for this). */
  runningShell(key: PodKey): Promise<PodShell | null>;
  /** A line in the sessions' terminals now (whoever watches them sees it). */
  sayInTerminals(sessionIds: string[], message: string): void;
  /** A note in the sessions' chats and "needs you": written to the database, so it fails while the disk is full, and is tried again. */
  notify(sessionIds: string[], message: string): void;
}

interface Writer {
  /** Stopped (SIGSTOP), or, a terminal's own shell, interrupted as Ctrl+C would. */
  how: "stopped" | "interrupted";
  pid: string;
  grownBytes: number;
  command: string;
  file: string;
}

/**
 * Keeps one person from filling the disk their workspaces share with everyone else's (and, unless
 * PIER_WORKSPACES_DIR puts them elsewhere, with the database and recordings). Docker can cap a
 * container's own layer but not a bind mount, and per-directory quotas need xfs or ext4 project
 * quotas set up by root, so Pier watches instead: every second it asks the file system how much
 * is free (statfs of the workspaces' directory, which no pod can replace). Under the reserve, it
 * looks in each pod with a live session, through the runtime, for processes filling a file of
 * their workspace and stops them (SIGSTOP: nothing is lost, the person's shell keeps working, so
 * they can free space and then continue or end what was stopped), and tells their person. When
 * nothing is writing (the disk filled faster than a second), the person with the largest
 * workspace (du, in their pod) is told instead.
 */
export class DiskWatch {
  private short = false;
  /** What a pod's person has yet to be told durably (their chat, "needs you"); kept until that works. */
  private untold = new Map<string, { sessionIds: string[]; message: string }>();
  /** Pods whose person was told, during this shortage, that theirs is the largest workspace, and what it held then (KiB). */
  private toldLargest = new Map<string, number>();
  /** The last look found nothing writing: when, and how much was free then. */
  private quiet: { at: number; free: number } | null = null;

  constructor(private deps: DiskWatchDeps) {}

  async check(): Promise<void> {
    this.notifyUntold();
    const { free, size } = freeBytes(this.deps.workspacesDir);
    const reserve = reserveBytes(this.deps.reserveMb, size);
    if (free >= reserve) {
      if (this.short) console.warn(`[pier] the workspaces' disk has ${mib(free)} MiB free again.`);
      this.short = false;
      this.toldLargest.clear();
      this.quiet = null;
      return;
    }
    if (!this.short) console.warn(`[pier] the workspaces' disk (${this.deps.workspacesDir}) has ${mib(free)} MiB free, under the ${mib(reserve)} MiB kept: stopping what fills it.`);
    this.short = true;
    if (this.quiet && Date.now() - this.quiet.at < QUIET_LOOK_MS && free > this.quiet.free - MIN_GROWTH) return;
    const looked = await Promise.all(this.deps.livePods().map(async (pod) => ({ pod, ...(await this.stopWriters(pod)) })));
    // Looked at again: what was filling the disk may have finished while the pods were looked at, and the person is told how it stands now.
    const freeNow = freeBytes(this.deps.workspacesDir).free;
    const disk = `The disk of Pier's workspaces is nearly full (${mib(freeNow)} MiB free; Pier keeps ${mib(reserve)} MiB for everyone's work, its database and recordings)`;
    for (const { pod, writers, usageKiB } of looked) {
      if (writers.length === 0) continue;
      const what = writers.map((w) => `${w.how} “${w.command}” (pid ${w.pid}, ${Math.round(w.grownBytes / MiB / 0.2)} MiB/s into ${w.file})`).join(", ");
      const pids = writers.filter((w) => w.how === "stopped").map((w) => w.pid).join(" ");
      const next = pids ? ` Delete what you do not need, then carry on with \`kill -CONT ${pids}\` (or \`fg\`), or end it with \`kill -9 ${pids}\`.` : " Delete what you do not need.";
      this.tell(pod, `${disk}, so Pier ${what} in your pod. Your workspace holds ${kibToMib(usageKiB)} MiB.${next}`);
    }
    if (looked.some((l) => l.writers.length > 0)) {
      this.quiet = null;
      return;
    }
    this.quiet = { at: Date.now(), free: freeNow };
    // Someone freed space while the pods were looked at: nobody needs telling.
    if (freeNow >= reserve) return;
    const largest = looked.filter((l) => l.usageKiB !== null).sort((a, b) => b.usageKiB! - a.usageKiB!)[0];
    if (!largest) return;
    // Told once, unless it has grown since.
    const told = this.toldLargest.get(podKeyString(largest.pod.key));
    if (told !== undefined && largest.usageKiB! * 1024 < told * 1024 + MIN_GROWTH) return;
    this.toldLargest.set(podKeyString(largest.pod.key), largest.usageKiB!);
    this.tell(largest.pod, `${disk}. Your workspace holds ${kibToMib(largest.usageKiB)} MiB, the most of anyone's: delete what you do not need.`);
  }

  /** Runs the script in the pod: the processes it stopped, and what the workspace holds. A pod it cannot run in has none. */
  private async stopWriters(pod: LivePod): Promise<{ writers: Writer[]; usageKiB: number | null }> {
    const shell = await this.deps.runningShell(pod.key).catch(() => null);
    if (!shell) return { writers: [], usageKiB: null };
    const result = await runPodScript(shell, STOP_WRITERS, [shell.cwd, String(MIN_GROWTH)], { timeoutMs: SCRIPT_TIMEOUT_MS, maxOutputBytes: 64 * 1024 }).catch(() => null);
    if (!result) return { writers: [], usageKiB: null };
    const writers: Writer[] = [];
    let usageKiB: number | null = null;
    for (const line of result.stdout.split("\n")) {
      const [kind, ...fields] = line.split("\t");
      if (kind === "usage" && /^\d+$/.test(fields[0] ?? "")) usageKiB = Number(fields[0]);
      if ((kind === "stopped" || kind === "interrupted") && fields.length >= 4 && /^\d+$/.test(fields[0]!)) {
        // The command and file name come from the pod: shown as plain words, never as escape sequences.
        writers.push({ how: kind, pid: fields[0]!, grownBytes: Number(fields[1]) || 0, command: plain(fields[2]!), file: plain(relative(shell.cwd, fields.slice(3).join("\t"))) });
      }
    }
    return { writers, usageKiB };
  }

  private tell(pod: LivePod, message: string): void {
    this.deps.sayInTerminals(pod.sessionIds, message);
    this.untold.set(podKeyString(pod.key), { sessionIds: pod.sessionIds, message });
    this.notifyUntold();
  }

  private notifyUntold(): void {
    for (const [key, { sessionIds, message }] of this.untold) {
      try {
        this.deps.notify(sessionIds, message);
        this.untold.delete(key);
      } catch {
        // The disk is still too full to write it down: the next check tries again.
      }
    }
  }
}

/** The disk's free space (what an unprivileged writer may use) and size, from statfs of the directory: it reads nothing a pod wrote. */
function freeBytes(dir: string): { free: number; size: number } {
  const stats = statfsSync(dir);
  return { free: stats.bavail * stats.bsize, size: stats.blocks * stats.bsize };
}

function mib(bytes: number): number {
  return Math.floor(bytes / MiB);
}

function kibToMib(kib: number | null): string {
  return kib === null ? "an unknown number of" : String(Math.round(kib / 1024));
}

function plain(text: string): string {
  return text.replace(/[\x00-\x1f\x7f-\x9f]/g, "?").slice(0, 200);
}
