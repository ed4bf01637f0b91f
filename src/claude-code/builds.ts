import { existsSync, mkdirSync } from "node:fs";
import type { EventBus } from "../infra/events.ts";
import { Fetches, byteFraction } from "../npm/fetches.ts";
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

/**
 * Pier's own copies of Claude Code, one per version and variant. A fetch (about 175 MB) happens
 * once: everyone asking meanwhile shares it, and its progress is published so pages can show it.
 * A failure is remembered as a sentence and tried again when the build is next needed, a little
 * later, so an offline Pier does not hammer the registry (see Fetches). Old versions are kept: a
 * pod's copy is a hard link, so it never depends on them, and they are small next to the data dir.
 */
export class ClaudeCodeBuilds {
  private fetches: Fetches;

  constructor(private deps: BuildsDeps) {
    this.fetches = new Fetches({
      retryAfterMs: deps.retryAfterMs,
      onChange: (key, state) => {
        const [version, variant] = key.split("/") as [string, ClaudeCodeVariant];
        this.publish(state ? { version, variant, ...state } : { version, variant, state: "ready", path: this.path(version, variant) });
      },
    });
  }

  get dir(): string {
    return this.deps.dir;
  }

  /** Where the build is (or will be) kept on the server. */
  path(version: string, variant: ClaudeCodeVariant): string {
    return claudeCodePath(this.deps.dir, version, variant);
  }

  status(version: string, variant: ClaudeCodeVariant): BuildStatus | null {
    if (existsSync(this.path(version, variant))) return { version, variant, state: "ready", path: this.path(version, variant) };
    const state = this.fetches.state(buildKey(version, variant));
    return state && { version, variant, ...state };
  }

  /** The build's path, fetched first if need be (shared with any fetch of it under way). */
  fetch(version: string, variant: ClaudeCodeVariant): Promise<string> {
    const path = this.path(version, variant);
    if (existsSync(path)) return Promise.resolve(path);
    return this.fetches.run(
      buildKey(version, variant),
      async (progress) => {
        mkdirSync(this.deps.dir, { recursive: true, mode: 0o755 });
        return fetchClaudeCode({
          registry: this.deps.registry,
          version,
          variant,
          dir: this.deps.dir,
          onProgress: (received, total) => progress(byteFraction(received, total)),
        });
      },
      (reason) => `Claude Code ${version} could not be fetched: ${reason}`,
    );
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
