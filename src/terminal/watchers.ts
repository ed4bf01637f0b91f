import type { ControlMessage } from "./protocol.ts";

/** One browser (or script) attached to a session's terminal. */
export interface Watcher {
  sendBytes(bytes: Uint8Array): void;
  sendControl(message: ControlMessage): void;
  /** Bytes handed to the socket but not yet sent; above a limit the watcher is left behind. */
  bufferedAmount(): number;
  /** The connection to the pod was lost under the terminal: the watcher should come back for the one that replaces it. */
  lost(): void;
}

/** A watcher this far behind stops getting output until its socket drains, then gets a fresh snapshot. */
const BEHIND_BYTES = 1024 * 1024;

/** Notices kept for a watcher that is not live yet (at most this many, the latest). */
const HELD_NOTICES = 20;

/** Waiting for its snapshot, getting output, or left behind until its socket drains. */
type WatcherState = "pending" | "live" | "behind";

/**
 * The fan-out of a terminal's output to its watchers: each gets a snapshot first and live output
 * from that point on; one that falls too far behind is left out until it can take a fresh snapshot.
 */
export class Watchers {
  private states = new Map<Watcher, WatcherState>();
  /** Notices for watchers waiting for a snapshot: sent right after it, so none is lost to a watcher joining. */
  private heldNotices = new Map<Watcher, string[]>();
  private sent = 0;

  /** A new watcher, waiting for its snapshot. */
  add(watcher: Watcher): void {
    this.states.set(watcher, "pending");
  }

  has(watcher: Watcher): boolean {
    return this.states.has(watcher);
  }

  remove(watcher: Watcher): void {
    this.states.delete(watcher);
    this.heldNotices.delete(watcher);
  }

  /** How many pieces of output have gone out so far. */
  outputCount(): number {
    return this.sent;
  }

  /** Sends the watcher its snapshot and makes it live; false when it has gone meanwhile. */
  goLive(watcher: Watcher, snapshot: Uint8Array): boolean {
    if (!this.states.has(watcher)) return false;
    watcher.sendBytes(snapshot);
    this.states.set(watcher, "live");
    for (const message of this.heldNotices.get(watcher) ?? []) watcher.sendControl({ type: "notice", message });
    this.heldNotices.delete(watcher);
    return true;
  }

  /** The watcher's socket has room again: true when it had been left behind (it now waits for a fresh snapshot). */
  caughtUp(watcher: Watcher): boolean {
    if (this.states.get(watcher) !== "behind" || watcher.bufferedAmount() > 0) return false;
    this.states.set(watcher, "pending");
    return true;
  }

  /** A piece of output, to every live watcher that keeps up. */
  send(bytes: Uint8Array): void {
    this.sent++;
    for (const [watcher, state] of this.states) {
      if (state !== "live") continue;
      if (watcher.bufferedAmount() > BEHIND_BYTES) {
        this.states.set(watcher, "behind");
        continue;
      }
      watcher.sendBytes(bytes);
    }
  }

  /** A line from Pier to everyone watching: at once to those live, after their snapshot to the others. */
  notice(message: string): void {
    for (const [watcher, state] of this.states) {
      if (state === "live") {
        watcher.sendControl({ type: "notice", message });
        continue;
      }
      const held = this.heldNotices.get(watcher) ?? [];
      held.push(message);
      this.heldNotices.set(watcher, held.slice(-HELD_NOTICES));
    }
  }

  /** The terminal is gone: each watcher hears how (`lost`: its connection to the pod went), and none is left. */
  endAll(lost: boolean): void {
    for (const watcher of this.states.keys()) {
      if (lost) watcher.lost();
      else watcher.sendControl({ type: "exited" });
    }
    this.states.clear();
    this.heldNotices.clear();
  }
}
