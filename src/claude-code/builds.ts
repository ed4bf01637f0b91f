import { existsSync, mkdirSync } from "node:fs";
import type { EventBus } from "../infra/events.ts";
import { type ClaudeCodeVariant, claudeCodePath, fetchClaudeCode } from "./package.ts";

declare module "../infra/events.ts" {
  interface PierEvents {
    /** A build of Claude Code got further, became ready or failed (topic: `<version>/<variant>`). */
    "claude-code.build": BuildStatus;
  }
}

/** Where a build stands: being fetched (with how far), kept, or failed (with why). */
export type BuildStatus =
  | { version: string; variant: ClaudeCodeVariant; state: "fetching"; fraction: number | null }
  | { version: string; variant: ClaudeCodeVariant; state: "ready"; path: string }
  | { version: string; variant: ClaudeCodeVariant; state: "failed"; error: string; at: number };

export interface BuildsDeps {
  /** Where builds are kept (PIER_TOOLS_DIR/claude-code); only the server writes it. */
  dir: string;
  registry: string;
  bus: EventBus;
  /** A failed fetch is tried again when asked for after this long (sooner, the failure stands). */
  retryAfterMs?: number;
}

const RETRY_AFTER_MS = 60_000;

/**
 * Pier's own copies of Claude Code, one per version and variant. A fetch (about 175 MB) happens
 * once: everyone asking meanwhile shares it, and its progress is published so pages can show it.
 * A failure is remembered as a sentence and tried again when the build is next needed, a little
 * later, so an offline Pier does not hammer the registry. Old versions are kept: a pod's copy is a
 * hard link, so it never depends on them, and they are small next to the data dir.
 */
export class ClaudeCodeBuilds {
  private fetching = new Map<string, Promise<string>>();
  private failures = new Map<string, BuildStatus & { state: "failed" }>();
  private progress = new Map<string, number | null>();

  constructor(private deps: BuildsDeps) {}

  get dir(): string {
    return this.deps.dir;
  }

  /** Where the build is (or will be) kept on the server. */
  path(version: string, variant: ClaudeCodeVariant): string {
    return claudeCodePath(this.deps.dir, version, variant);
  }

  status(version: string, variant: ClaudeCodeVariant): BuildStatus | null {
    const key = buildKey(version, variant);
    if (existsSync(this.path(version, variant))) return { version, variant, state: "ready", path: this.path(version, variant) };
    if (this.fetching.has(key)) return { version, variant, state: "fetching", fraction: this.progress.get(key) ?? null };
    return this.failures.get(key) ?? null;
  }

  /** The build's path, fetched first if need be (shared with any fetch of it under way). */
  fetch(version: string, variant: ClaudeCodeVariant): Promise<string> {
    const path = this.path(version, variant);
    if (existsSync(path)) return Promise.resolve(path);
    const key = buildKey(version, variant);
    const running = this.fetching.get(key);
    if (running) return running;
    const failed = this.failures.get(key);
    if (failed && Date.now() - failed.at < (this.deps.retryAfterMs ?? RETRY_AFTER_MS)) return Promise.reject(new Error(failed.error));
    this.failures.delete(key);
    const attempt = this.download(version, variant).finally(() => {
      this.fetching.delete(key);
      this.progress.delete(key);
    });
    this.fetching.set(key, attempt);
    this.publish({ version, variant, state: "fetching", fraction: null });
    return attempt;
  }

  private async download(version: string, variant: ClaudeCodeVariant): Promise<string> {
    const key = buildKey(version, variant);
    try {
      mkdirSync(this.deps.dir, { recursive: true, mode: 0o755 });
      const path = await fetchClaudeCode({
        registry: this.deps.registry,
        version,
        variant,
        dir: this.deps.dir,
        onProgress: (received, total) => {
          const fraction = total ? received / total : null;
          this.progress.set(key, fraction);
          this.publish({ version, variant, state: "fetching", fraction });
        },
      });
      this.publish({ version, variant, state: "ready", path });
      return path;
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      const failure = { version, variant, state: "failed" as const, error: `Claude Code ${version} could not be fetched: ${reason}`, at: Date.now() };
      this.failures.set(key, failure);
      this.publish(failure);
      throw new Error(failure.error);
    }
  }

  private publish(status: BuildStatus): void {
    this.deps.bus.publish("claude-code.build", buildKey(status.version, status.variant), status);
  }
}

export function buildKey(version: string, variant: ClaudeCodeVariant): string {
  return `${version}/${variant}`;
}

/** The build's state as the session and settings pages say it; null once it is ready. */
export function buildSentence(status: BuildStatus | null): string | null {
  if (!status || status.state === "ready") return null;
  if (status.state === "failed") return `${status.error} Pier tries again when it is next needed.`;
  const percent = status.fraction === null ? "" : ` ${Math.floor(status.fraction * 100)} %`;
  return `Fetching Claude Code ${status.version}…${percent}`;
}
