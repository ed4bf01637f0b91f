import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { BuildLog } from "./build-log.ts";

/**
 * The devcontainer CLI (the Development Container spec's reference implementation), run by Bun
 * itself: the Pier image has no Node, and the CLI's one bundled file runs under Bun as it is.
 */
const CLI = Bun.resolveSync("@devcontainers/cli/devcontainer.js", import.meta.dir);
const DOCKER_FOR_BUILDS = readFileSync(join(import.meta.dir, "docker-for-builds.sh"), "utf8");
/** A feature build that takes longer (a toolchain compiled from source, a hung download) is stopped. */
const FEATURE_BUILD_TIMEOUT_MS = 30 * 60 * 1000;
/** The CLI says its outcome as one JSON line on stdout; its log goes to stderr. */
const MAX_OUTCOME_BYTES = 64 * 1024;

/** What the CLI is asked to build: the image of `folder`'s .devcontainer/devcontainer.json, as `tag`. */
export interface FeatureBuild {
  /** A server-only folder: `workspace/.devcontainer/` staged with the generated file and local features; the CLI's home and temporary files go beside it. */
  folder: string;
  tag: string;
  labels: Record<string, string>;
  /** The pods' network mode, for every RUN of the build. */
  network: string;
  /** The docker wrapper (see writeDockerForBuilds). */
  dockerPath: string;
  /** How the docker CLI reaches the engine Pier uses: DOCKER_HOST and friends. */
  engine: Record<string, string>;
}

/**
 * Writes the docker wrapper the CLI is given (docker-for-builds.sh) into `dir`, executable, and
 * returns its path. Made whole beside its place and moved there, so a build never runs half of it.
 */
export function writeDockerForBuilds(dir: string): string {
  const path = join(dir, "docker-for-builds");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(`${path}.${process.pid}`, DOCKER_FOR_BUILDS, { mode: 0o700 });
  renameSync(`${path}.${process.pid}`, path);
  return path;
}

/**
 * Runs `devcontainer build` on the staged folder with the legacy builder, which every engine has
 * (BuildKit's buildx is in neither Pier's image nor Debian's docker.io), its log streamed to `log`. The CLI gets a minimal environment: no secret, no
 * registry credentials (its HOME is a fresh folder), only the way to the engine. A failure throws
 * the CLI's own sentence (an unreachable registry says so).
 */
export async function buildWithFeatures(build: FeatureBuild, log: BuildLog): Promise<void> {
  const path = process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin";
  if (!Bun.which("docker", { PATH: path })) throw new Error("Building a repository's features needs the docker CLI on the server's PATH (Pier's image has it); install Debian's docker.io or Docker's docker-ce-cli.");
  const home = join(build.folder, "home");
  const temporary = join(build.folder, "tmp");
  mkdirSync(home, { mode: 0o700 });
  mkdirSync(temporary, { mode: 0o700 });
  const labels = Object.entries(build.labels).flatMap(([key, value]) => ["--label", `${key}=${value}`]);
  const child = Bun.spawn(
    [
      process.execPath, CLI, "build",
      "--workspace-folder", join(build.folder, "workspace"),
      "--image-name", build.tag,
      "--docker-path", build.dockerPath,
      "--buildkit", "never",
      "--log-format", "text",
      ...labels,
    ],
    {
      cwd: build.folder,
      env: {
        PATH: path,
        HOME: home,
        // The CLI keeps its copies of the features under the temporary directory: removed with the folder.
        TMPDIR: temporary,
        LANG: "C.UTF-8",
        DOCKER_BUILDKIT: "0",
        PIER_BUILD_NETWORK: build.network,
        ...build.engine,
      },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
      timeout: FEATURE_BUILD_TIMEOUT_MS,
      killSignal: "SIGKILL",
    },
  );
  const [outcome, , exitCode] = await Promise.all([readOutcome(child.stdout), streamLog(child.stderr, log), child.exited]);
  if (exitCode === 0 && outcome?.outcome === "success") return;
  throw new Error(child.signalCode ? `devcontainer build was stopped after ${FEATURE_BUILD_TIMEOUT_MS / 60_000} minutes.` : outcome?.message || `devcontainer build exited with code ${exitCode}.`);
}

interface Outcome {
  outcome?: string;
  message?: string;
}

/** The outcome line: the last of stdout, of which no more than MAX_OUTCOME_BYTES is kept. */
async function readOutcome(stdout: ReadableStream<Uint8Array>): Promise<Outcome | null> {
  const decoder = new TextDecoder();
  let text = "";
  await eachChunk(stdout, (chunk) => {
    text = (text + decoder.decode(chunk, { stream: true })).slice(-MAX_OUTCOME_BYTES);
  });
  try {
    return JSON.parse(text.trim().split("\n").at(-1) ?? "") as Outcome;
  } catch {
    return null;
  }
}

/** The CLI's log, each line without the timestamp the CLI puts before it. */
async function streamLog(stderr: ReadableStream<Uint8Array>, log: BuildLog): Promise<void> {
  const lines = log.stream((line) => line.replace(/^\[\d{4}-\d\d-\d\dT[\d:.]+Z\] ?/, ""));
  const decoder = new TextDecoder();
  await eachChunk(stderr, (chunk) => lines.write(decoder.decode(chunk, { stream: true })));
  lines.end();
}

async function eachChunk(stream: ReadableStream<Uint8Array>, take: (chunk: Uint8Array) => void): Promise<void> {
  const reader = stream.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    take(value);
  }
}
