import type { Config } from "../infra/config.ts";
import { podUrlOfPier } from "../mcp-endpoint/pod-url.ts";

/**
 * Where pods reach Pier (see podUrlOfPier), which is known for sure only once Pier listens
 * (PIER_PORT=0 picks a port). What names the address somewhere (the worktrees' .mcp.json and
 * Claude Code settings) follows it when it moves, and what reads those places can wait for that.
 */
export class PierAddress {
  private port: number;
  private followers: Array<() => Promise<void>> = [];
  private followed: Promise<void> = Promise.resolve();

  constructor(
    private config: Config,
    private runtime: "docker" | "local",
  ) {
    this.port = config.port;
  }

  /** Where pods reach Pier now, or null when they cannot (network none). */
  podUrl(): string | null {
    return podUrlOfPier(this.config, this.runtime, this.port);
  }

  /** The port Pier listens on (0 until it does, where PIER_PORT=0 lets the system pick). */
  listeningPort(): number {
    return this.port;
  }

  /** `follow` runs each time the address moves (after a restart on another port). */
  onMoved(follow: () => Promise<void>): void {
    this.followers.push(follow);
  }

  /** Pier listens on this port now. */
  listening(port: number): void {
    if (port === this.port) return;
    this.port = port;
    this.followed = Promise.all(this.followers.map((follow) => follow())).then(() => {});
  }

  /** Resolves once what followed the last move is done (never before the worktrees name the current address). */
  settled(): Promise<void> {
    return this.followed;
  }
}
