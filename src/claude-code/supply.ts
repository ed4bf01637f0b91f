import { existsSync, linkSync, copyFileSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { shellQuote } from "../pods/pod-services.ts";
import { type PodKey, onPiersDisk, podKeyString } from "../runtime/runtime.ts";
import { type PodShell, podScript, readFields, runPodScript } from "../workspaces/pod-script.ts";
import { type BuildStatus, type ClaudeCodeBuilds, buildSentence } from "./builds.ts";
import type { ClaudeCodeVariant } from "./package.ts";
import { claudeCodeVariant } from "./variant.ts";

const PROBE = `set -u\n${podScript("claude-code-probe.sh")}\nclaude_code_facts "$1"\n`;

/** What Pier learns of a pod to give it Claude Code. */
export interface PodFacts {
  /** `uname -m`. */
  machine: string;
  /** The build that runs there, or null when Claude Code has none for the machine. */
  variant: ClaudeCodeVariant | null;
  /** The image's own `claude` (absolute path), which wins over Pier's copy. */
  own: string | null;
}

export interface SupplyDeps {
  runtime: "docker" | "local";
  builds: ClaudeCodeBuilds;
  /** The pinned version, from settings. */
  version(): string;
  /** The person's pod of the repo, found, started or created. */
  podOf(key: PodKey): Promise<PodShell>;
  /**
   * Docker: the pod's directory for Pier's copy, in its services directory (the server writes
   * it, the pod sees it read-only at the same path, last on its login shells' PATH).
   */
  binDir(key: PodKey): string;
  /** Local runtime: this machine's facts (the server's own machine is the "pod"). */
  hostFacts(): PodFacts;
}

/**
 * A session's start about to ready a pod, offering to learn the pod's facts in its own exec there
 * (prepare.sh runs the same probe beside its git work): one docker exec fewer on a new pod, where
 * a second exec at once slowed the first by some 80 ms. An answer that does not come within
 * OFFER_WAIT_MS (or a failed start) leaves the asking to a probe of its own, as before.
 */
export interface PodFactsOffer {
  /** Once the pod is readied: the directory of Pier's copy in it when its facts are wanted (Pier has not learned this container), else null. */
  readonly dir: string | null;
  /** What the probe printed, or why there is nothing; call it once the session's start has it (or has failed). */
  settle(output: string | Error): void;
}

/**
 * How long the facts offered by a session's start are waited for before the pod is asked on its
 * own: a first clone of a big repository can keep that start busy for minutes, and Claude Code's
 * own fetch waits on the facts.
 */
const OFFER_WAIT_MS = 2_000;

/** Marks the script that stands in for Claude Code while it is being fetched. */
const WAITING_MARK = "# pier: fetching claude code";

/**
 * Claude Code in any image. When a pod's image has no `claude`, Pier gives it its own copy: the
 * build for the pod's machine and C library (asked of the pod), fetched once per version into
 * the tools directory and hard-linked into the pod's services directory, which the pod mounts
 * read-only and has last on PATH (so an image's own `claude` wins). A hard link needs no new
 * mount, so pods made before this existed get it too, and a version change swaps the link
 * while a running `claude` keeps the file it started from.
 *
 * Until the build is there, `claude` in the pod is a small script that says so and waits for it;
 * a failed fetch leaves a script that says why. The session never waits for any of this.
 */
export class ClaudeCodeSupply {
  /** Per pod: the container the facts were learned from, and them. */
  private facts = new Map<string, { podId: string; facts: Promise<PodFacts> }>();
  private providing = new Map<string, Promise<string>>();
  /** Per container off Pier's disk: the version of Pier's copy linked in it. */
  private linkedOffDisk = new Map<string, string>();
  /** Per pod: a session's start that offered to learn the pod (see offerFacts), until the pod is readied. */
  private offers = new Map<string, { answer: PromiseWithResolvers<string>; taken: boolean }>();

  constructor(private deps: SupplyDeps) {}

  /**
   * Before a session's start readies the pod: if the pod turns out to be one Pier has not learned,
   * its facts are taken from the session's own exec instead of a probe of their own (see PodFactsOffer).
   */
  offerFacts(key: PodKey): PodFactsOffer {
    const id = podKeyString(key);
    // One offer at a time per pod; the local runtime asks nothing of its "pod".
    if (this.deps.runtime !== "docker" || this.offers.has(id)) return { dir: null, settle: () => {} };
    const offer = { answer: Promise.withResolvers<string>(), taken: false };
    // Nobody may take it: its failure is then nobody's.
    offer.answer.promise.catch(() => {});
    this.offers.set(id, offer);
    const binDir = this.deps.binDir(key);
    return {
      get dir() {
        return offer.taken ? binDir : null;
      },
      settle: (output) => {
        if (this.offers.get(id) === offer) this.offers.delete(id);
        if (output instanceof Error) offer.answer.reject(output);
        else offer.answer.resolve(output);
      },
    };
  }

  /** As a pod comes up: learns it and, in the background, fetches and places Pier's copy if needed. */
  prepare(key: PodKey, shell: PodShell): void {
    this.provide(key, shell, false).catch(() => {
      // Said by the status and by the script standing in for claude in the pod.
    });
  }

  /**
   * The absolute path of the program to run as `claude` in the person's pod of the repo: the
   * image's own when it has one, else Pier's copy, fetched first if need be.
   */
  async commandFor(key: PodKey): Promise<string> {
    return this.provide(key, await this.deps.podOf(key), true);
  }

  /** Where Pier's copy stands for this pod: a sentence while it is fetched or when it failed, else null. */
  async noticeFor(key: PodKey): Promise<string | null> {
    const facts = await this.facts.get(podKeyString(key))?.facts.catch(() => null);
    if (!facts || facts.own || !facts.variant) return null;
    return buildSentence(this.deps.builds.status(this.deps.version(), facts.variant));
  }

  /** The builds being fetched or failed for the pods Pier knows, for the settings page. */
  async problems(): Promise<BuildStatus[]> {
    const version = this.deps.version();
    const variants = new Set<ClaudeCodeVariant>();
    for (const { facts } of this.facts.values()) {
      const known = await facts.catch(() => null);
      if (known?.variant && !known.own) variants.add(known.variant);
    }
    return [...variants].map((variant) => this.deps.builds.status(version, variant)).filter((s): s is BuildStatus => s !== null && s.state !== "ready");
  }

  /** After the pinned version changed: fetches it for every pod known to need Pier's copy. */
  versionChanged(): void {
    for (const [id, { facts }] of this.facts) {
      void facts
        .then(async (known) => {
          if (known.own || !known.variant) return;
          const version = this.deps.version();
          const path = await this.deps.builds.fetch(version, known.variant);
          const dir = this.binDirOf(id);
          if (this.deps.runtime === "docker" && placedVersion(dir) !== version) this.place(dir, path, version);
        })
        .catch(() => {});
    }
  }

  private provide(key: PodKey, shell: PodShell, fresh: boolean): Promise<string> {
    const id = podKeyString(key);
    const running = this.providing.get(id);
    if (running && !fresh) return running;
    const attempt = this.supply(key, shell, fresh).finally(() => {
      if (this.providing.get(id) === attempt) this.providing.delete(id);
    });
    this.providing.set(id, attempt);
    return attempt;
  }

  private async supply(key: PodKey, shell: PodShell, fresh: boolean): Promise<string> {
    const facts = await this.learn(key, shell, fresh);
    if (facts.own) return facts.own;
    if (!facts.variant) throw new Error(`Claude Code has no Linux build for this pod's machine (${facts.machine}).`);
    const version = this.deps.version();
    if (this.deps.runtime === "local") return this.deps.builds.fetch(version, facts.variant);
    if (!onPiersDisk(shell.pod)) return this.supplyOffDisk(key, shell, version, facts.variant);

    const dir = this.deps.binDir(key);
    const target = join(dir, "claude");
    if (placedVersion(dir) === version) return target;
    // A copy of another version stays usable until the new one is here.
    if (placedVersion(dir) === null) this.standIn(dir, waitingScript(target, version));
    try {
      this.place(dir, await this.deps.builds.fetch(version, facts.variant), version);
    } catch (error) {
      if (placedVersion(dir) === null) this.standIn(dir, failedScript(buildSentence(this.deps.builds.status(version, facts.variant)) ?? String(error)));
      throw error;
    }
    return target;
  }

  /**
   * Pier's copy for a pod on another Docker engine, which cannot see the server's files: the build
   * goes once per version into that engine's read-only tools volume, and `claude` in the pod's
   * directory becomes a link to it (written into the pod), so a version change swaps the link as
   * it swaps the hard link on Pier's disk. Until then, the same stand-in scripts say why it waits.
   */
  private async supplyOffDisk(key: PodKey, shell: PodShell, version: string, variant: ClaudeCodeVariant): Promise<string> {
    const { runtime, pod } = shell;
    const target = join(this.deps.binDir(key), "claude");
    const linked = this.linkedOffDisk.get(pod.id);
    if (linked === version) return target;
    if (!runtime.writeFiles || !runtime.placeTool) throw new Error("This pod's runtime cannot write Pier's files into it.");
    if (linked === undefined) await runtime.writeFiles(pod, [{ path: target, mode: 0o755, content: waitingScript(target, version) }]);
    let tool: string;
    try {
      tool = await runtime.placeTool(pod, `claude-code-${version}-${variant}`, dirname(await this.deps.builds.fetch(version, variant)));
    } catch (error) {
      const sentence = buildSentence(this.deps.builds.status(version, variant)) ?? String(error);
      if (linked === undefined) await runtime.writeFiles(pod, [{ path: target, mode: 0o755, content: failedScript(sentence) }]).catch(() => undefined);
      throw error;
    }
    await runtime.writeFiles(pod, [{ path: target, linkTo: join(tool, "claude") }]);
    this.linkedOffDisk.set(pod.id, version);
    return target;
  }

  /** The pod's facts: asked once per container (a fresh ask when the caller is about to run claude). */
  private learn(key: PodKey, shell: PodShell, fresh: boolean): Promise<PodFacts> {
    const id = podKeyString(key);
    const known = this.facts.get(id);
    if (known && known.podId === shell.pod.id && !fresh) return known.facts;
    const offer = fresh ? undefined : this.offers.get(id);
    if (offer) {
      this.offers.delete(id);
      offer.taken = true;
    }
    const facts =
      this.deps.runtime === "local"
        ? Promise.resolve(this.deps.hostFacts())
        : offer
          ? this.offered(offer.answer.promise, shell, this.deps.binDir(key))
          : this.probe(shell, this.deps.binDir(key));
    this.facts.set(id, { podId: shell.pod.id, facts });
    // A failed ask is asked again next time.
    facts.catch(() => this.facts.get(id)?.facts === facts && this.facts.delete(id));
    return facts;
  }

  /** The facts a session's start found, if it says in time; else (or if it failed) the pod is asked on its own. */
  private async offered(answer: Promise<string>, shell: PodShell, binDir: string): Promise<PodFacts> {
    const told = await Promise.race([
      answer.then(podFacts).catch(() => null),
      new Promise<null>((resolve) => setTimeout(() => resolve(null), OFFER_WAIT_MS).unref()),
    ]);
    return told ?? this.probe(shell, binDir);
  }

  private async probe(shell: PodShell, binDir: string): Promise<PodFacts> {
    const result = await runPodScript(shell, PROBE, [binDir], { timeoutMs: 30_000, maxOutputBytes: 64 * 1024 });
    if (result.exitCode !== 0) throw new Error(`Could not ask the pod about its machine: ${result.stderr.trim() || `exit code ${result.exitCode}`}`);
    return podFacts(result.stdout);
  }

  private binDirOf(id: string): string {
    const [repoId, userId] = id.split("/") as [string, string];
    return this.deps.binDir({ repoId, userId });
  }

  /** Puts the build in the pod's directory, whole or not at all: a hard link (a copy across file systems). */
  private place(dir: string, build: string, version: string): void {
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    const temp = join(dir, `.claude-${process.pid}-${Date.now()}`);
    try {
      linkSync(build, temp);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EXDEV") throw error;
      copyFileSync(build, temp);
    }
    renameSync(temp, join(dir, "claude"));
    writeFileSync(join(dir, ".version"), version, { mode: 0o644 });
  }

  /** A script where claude will be, until it is (never over a real copy). */
  private standIn(dir: string, script: string): void {
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    rmSync(join(dir, ".version"), { force: true });
    const temp = join(dir, `.claude-${process.pid}-${Date.now()}`);
    writeFileSync(temp, script, { mode: 0o755 });
    renameSync(temp, join(dir, "claude"));
  }
}

/** The facts in what claude-code-probe.sh printed. */
function podFacts(output: string): PodFacts {
  const fields = readFields(output);
  const machine = fields.get("machine");
  if (!machine) throw new Error("The pod did not say what machine it is.");
  return { machine, variant: claudeCodeVariant(machine, fields.get("musl") === "1"), own: fields.get("claude") || null };
}

/** The version of the real copy in the pod's directory, or null when there is none (or a stand-in). */
function placedVersion(dir: string): string | null {
  const file = join(dir, ".version");
  return existsSync(file) && existsSync(join(dir, "claude")) ? readFileSync(file, "utf8").trim() : null;
}

/** Says Claude Code is on its way and waits for it, then runs it (the terminal's `claude` at start). */
function waitingScript(target: string, version: string): string {
  const self = shellQuote(target);
  return [
    "#!/bin/sh",
    WAITING_MARK,
    `echo ${shellQuote(`Pier is fetching Claude Code ${version} for this pod; it starts as soon as it is here (Ctrl+C to stop waiting).`)} >&2`,
    `while head -c 200 ${self} 2>/dev/null | grep -q ${shellQuote(`^${WAITING_MARK}$`)}; do sleep 1; done`,
    `exec ${self} "$@"`,
    "",
  ].join("\n");
}

/** Says why Claude Code is not here. */
function failedScript(sentence: string): string {
  return ["#!/bin/sh", `echo ${shellQuote(sentence)} >&2`, "exit 1", ""].join("\n");
}

/** The build for the server's own machine: its architecture and C library. */
export function hostVariant(): ClaudeCodeVariant | null {
  // musl's loader alone makes a musl system: a glibc one may have musl installed beside it (musl-tools, to build pier-pty).
  const glibc = ["/lib64/ld-linux-x86-64.so.2", "/lib/ld-linux-aarch64.so.1"].some((path) => existsSync(path));
  const musl = !glibc && ["/lib/ld-musl-x86_64.so.1", "/lib/ld-musl-aarch64.so.1"].some((path) => existsSync(path));
  return claudeCodeVariant(process.arch === "x64" ? "x86_64" : process.arch === "arm64" ? "aarch64" : process.arch, musl);
}

/** The directory of a kept build (to put last on the local runtime's PATH). */
export function buildDir(builds: ClaudeCodeBuilds, version: string, variant: ClaudeCodeVariant): string {
  return dirname(builds.path(version, variant));
}
