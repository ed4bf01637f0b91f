/**
 * Building a repository's environment image from its devcontainer configuration, on the real
 * engine: a Dockerfile from the repository's mirror (build args, a target stage), local features
 * through the devcontainer CLI, reuse by tag, and the failures a person is shown. Every image is
 * built FROM the local test image, never from a registry; containers run with network none.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import Docker from "dockerode";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { DevcontainerConfig } from "../../src/environments/environment.ts";
import { EnvironmentImages, LABEL_ENV_HASH } from "../../src/environments/image-build.ts";
import { AppError } from "../../src/infra/errors.ts";
import { newId } from "../../src/infra/ids.ts";
import { Mirrors } from "../../src/repos/mirrors.ts";
import type { Repo } from "../../src/repos/repos.ts";
import { makeRemoteRepo, repoRecord } from "../support/git-fixtures.ts";
import { ensureTestWorkspaceImage } from "../support/workspace-image.ts";

const docker = new Docker();
const repoId = newId();
const dataDir = mkdtempSync(join(tmpdir(), "pier-env-build-"));
const scratchDir = join(dataDir, "environment-builds");
const mirrors = new Mirrors(dataDir, async () => null);
/** Labelled on every image this file builds, intermediate ones included: afterAll removes exactly those. */
const INSTANCE = `test-${newId()}`;
const images = new EnvironmentImages({ docker, mirrors, scratchDir, network: () => "none", instanceId: INSTANCE });
const remote = makeRemoteRepo("environment");
/** A server file a repository's symlink points at: it must never reach an image. */
const serverSecret = join(mkdtempSync(join(tmpdir(), "pier-env-secret-")), "secret.txt");
const MARKER = `server-only-${newId()}`;
const FAILING_STEP = `step-about-to-fail-${newId()}`;
/** A build arg of this run's own: no step after it comes from the engine's cache of an earlier run. */
const GREETING = `from-the-build-arg-${newId()}`;
let baseImage = "";
let commit = "";

beforeAll(async () => {
  baseImage = await ensureTestWorkspaceImage();
  // A killed server's build left its folder behind: the first build clears it.
  mkdirSync(join(scratchDir, "build-left-by-a-killed-server"), { recursive: true });
  writeFileSync(serverSecret, `${MARKER}\n`, { mode: 0o644 });
  const work = remote.git("rev-parse", "--show-toplevel");
  const put = (path: string, text: string, mode = 0o644) => {
    mkdirSync(dirname(join(work, path)), { recursive: true });
    writeFileSync(join(work, path), text);
    chmodSync(join(work, path), mode);
  };
  put(
    ".devcontainer/Dockerfile",
    [
      "ARG BASE",
      "FROM $BASE AS base",
      "USER root",
      "ARG GREETING=unset",
      'RUN echo "greeting=$GREETING" > /etc/pier-greeting && ls /sys/class/net > /etc/pier-build-network',
      "FROM base AS chosen",
      "RUN echo chosen > /etc/pier-stage",
      "FROM base AS after",
      "RUN echo after > /etc/pier-stage",
    ].join("\n"),
  );
  put(".devcontainer/hello/devcontainer-feature.json", JSON.stringify({ id: "hello", version: "1.0.0", name: "Hello", options: { words: { type: "string", default: "hi" } } }));
  put(".devcontainer/hello/install.sh", `#!/bin/sh\nset -e\nprintf '#!/bin/sh\\necho %s\\n' "$WORDS" > /usr/local/bin/hello\nchmod 0755 /usr/local/bin/hello\nls /sys/class/net > /etc/pier-feature-network\n`, 0o755);
  put(".devcontainer/leaky/devcontainer-feature.json", JSON.stringify({ id: "leaky", version: "1.0.0", name: "Leaky" }));
  put(".devcontainer/leaky/install.sh", "#!/bin/sh\nmkdir -p /opt/feature-copy && cp -r . /opt/feature-copy/\n", 0o755);
  symlinkSync(serverSecret, join(work, ".devcontainer/leaky/leak"));
  put("failing/Dockerfile", `FROM ${baseImage}\nRUN echo ${FAILING_STEP} && exit 3\n`);
  put("docker/Dockerfile", `FROM ${baseImage}\n`);
  put("app/readme.txt", "the app\n");
  remote.git("add", ".");
  remote.git("commit", "--quiet", "-m", "An environment");
  remote.git("push", "--quiet", "origin", "main");
  commit = remote.git("rev-parse", "HEAD");
  await mirrors.update(repo());
}, 300_000);

afterAll(async () => {
  // Children before parents: each round removes what no other image is built on.
  for (let round = 0; round < 20; round++) {
    const ours = await docker.listImages({ all: true, filters: { label: [`pier.instance=${INSTANCE}`] } });
    if (ours.length === 0) break;
    for (const image of ours) await docker.getImage(image.Id).remove().catch(() => undefined);
  }
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(dirname(serverSecret), { recursive: true, force: true });
  rmSync(dirname(remote.path), { recursive: true, force: true });
});

test("a Dockerfile with a build arg and a target stage, and a local feature, make one image on the pods' network, reused by its tag", async () => {
  const build = {
    repoId,
    commit,
    hash: uniqueHash(),
    config: config({
      build: { dockerfile: ".devcontainer/Dockerfile", context: ".devcontainer", args: { BASE: baseImage, GREETING }, target: "chosen" },
      features: [{ id: ".devcontainer/hello", local: true, options: { words: "hello-from-a-feature" } }],
      remoteUser: "pier",
    }),
  };
  const started = Math.floor(Date.now() / 1000);
  const [first, second] = [[] as string[], [] as string[]];
  const refs = await Promise.all([images.ensure(build, (line) => first.push(line)), images.ensure(build, (line) => second.push(line))]);
  const tag = images.tagFor(repoId, build.hash);
  expect(refs).toEqual([tag, tag]);
  expect(first.some((line) => line.includes("Step"))).toBe(true);
  expect(second).toEqual(first);
  // The engine tagged the image once: the two calls shared one build.
  expect(await tagEvents(tag, started)).toBe(1);

  expect(await runIn(tag, "hello; cat /etc/pier-greeting /etc/pier-stage")).toBe(`hello-from-a-feature\ngreeting=${GREETING}\nchosen`);
  // Both the Dockerfile's RUN and the feature's install ran on the pods' network mode (none: a loopback only).
  expect(await runIn(tag, "cat /etc/pier-build-network /etc/pier-feature-network")).toBe("lo\nlo");
  const built = await docker.getImage(tag).inspect();
  expect(built.Config.Labels?.[LABEL_ENV_HASH]).toBe(build.hash);
  expect(built.Config.Labels?.["pier.instance"]).toBe(INSTANCE);

  const again: string[] = [];
  expect(await images.ensure(build, (line) => again.push(line))).toBe(tag);
  expect(again).toEqual([]);
  expect((await docker.getImage(tag).inspect()).Id).toBe(built.Id);
  expect(readdirSync(scratchDir).filter((name) => name.startsWith("build-"))).toEqual([]);
}, 180_000);

test("a named image with no features is tagged with Pier's labels", async () => {
  const build = { repoId, commit, hash: uniqueHash(), config: config({ image: baseImage }) };
  const tag = await images.ensure(build, () => undefined);
  expect(tag).toBe(images.tagFor(repoId, build.hash));
  const image = await docker.getImage(tag).inspect();
  expect(image.Config.Labels?.[LABEL_ENV_HASH]).toBe(build.hash);
  expect(await runIn(tag, "id -un")).toBe("pier");
}, 60_000);

test("a failing RUN fails the build with its output in the error's tail", async () => {
  const build = { repoId, commit, hash: uniqueHash(), config: config({ build: { dockerfile: "failing/Dockerfile", context: "failing", args: {}, target: null } }) };
  const lines: string[] = [];
  const error = await images.ensure(build, (line) => lines.push(line)).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(AppError);
  expect((error as AppError).code).toBe("environment_build_failed");
  expect((error as AppError).message).toContain(FAILING_STEP);
  expect((error as AppError).message).toContain("returned a non-zero code: 3");
  expect(lines).toContain(FAILING_STEP);
  expect(await exists(images.tagFor(repoId, build.hash))).toBe(false);
  expect(readdirSync(scratchDir).filter((name) => name.startsWith("build-"))).toEqual([]);
}, 60_000);

test("a symbolic link in a local feature never brings a server file into the image", async () => {
  const build = { repoId, commit, hash: uniqueHash(), config: config({ image: baseImage, features: [{ id: ".devcontainer/leaky", local: true, options: {} }] }) };
  const lines: string[] = [];
  const tag = await images.ensure(build, (line) => lines.push(line));
  const look = await runIn(tag, `ls /opt/feature-copy; grep -rs ${MARKER} /opt /tmp /usr/local || echo no-marker`);
  expect(look).toContain("install.sh");
  expect(look.split("\n").at(-1)).toBe("no-marker");
  expect(look).not.toContain("leak");
  expect(lines).toContain("Left out .devcontainer/leaky/leak: a symbolic link (a feature's files are copied as regular files only).");
}, 120_000);

test("a Dockerfile outside its build context is a clear error, before anything is built", async () => {
  const build = { repoId, commit, hash: uniqueHash(), config: config({ build: { dockerfile: "docker/Dockerfile", context: "app", args: {}, target: null } }) };
  const error = (await images.ensure(build, () => undefined).catch((e: unknown) => e)) as AppError;
  expect(error.code).toBe("environment_build_failed");
  expect(error.message).toContain("The Dockerfile docker/Dockerfile is outside the build context app");
}, 30_000);

test("a feature from a registry that cannot be reached fails with the registry's own sentence", async () => {
  // .invalid never resolves (RFC 2606), so no request leaves this machine.
  const build = { repoId, commit, hash: uniqueHash(), config: config({ image: baseImage, features: [{ id: "registry.invalid/pier-tests/feature:1", local: false, options: {} }] }) };
  const error = (await images.ensure(build, () => undefined).catch((e: unknown) => e)) as AppError;
  expect(error.code).toBe("environment_build_failed");
  expect(error.message).toContain("ENOTFOUND registry.invalid");
}, 60_000);

function repo(): Repo {
  return repoRecord(remote, { id: repoId, name: "environment" });
}

function config(fields: Partial<DevcontainerConfig>): DevcontainerConfig {
  return {
    configPath: ".devcontainer/devcontainer.json",
    image: null,
    build: null,
    features: [],
    containerEnv: {},
    remoteEnv: {},
    remoteUser: null,
    containerUser: null,
    lifecycle: {},
    waitFor: "updateContentCommand",
    ports: [],
    hostRequirements: { cpus: null, memoryMb: null },
    refused: [],
    ...fields,
  };
}

function uniqueHash(): string {
  return new Bun.CryptoHasher("sha256").update(newId()).digest("hex");
}

async function exists(image: string): Promise<boolean> {
  return docker.getImage(image).inspect().then(() => true, () => false);
}

/** Runs a script in a container of `image` (no network, removed after) and returns its output. */
async function runIn(image: string, script: string): Promise<string> {
  const container = await docker.createContainer({ Image: image, Cmd: ["sh", "-c", script], Tty: true, HostConfig: { NetworkMode: "none" } });
  try {
    await container.start();
    await container.wait();
    const output = await container.logs({ stdout: true, stderr: true });
    return output.toString("utf8").replace(/\r\n/g, "\n").trim();
  } finally {
    await container.remove({ force: true });
  }
}

/** How many times the engine tagged `tag` since `since` (seconds). */
async function tagEvents(tag: string, since: number): Promise<number> {
  const until = Math.floor(Date.now() / 1000) + 1;
  const stream = await docker.getEvents({ since, until, filters: { type: ["image"], event: ["tag"] } });
  const chunks: Buffer[] = [];
  await new Promise((resolve, reject) => stream.on("data", (chunk: Buffer) => chunks.push(chunk)).on("end", resolve).on("error", reject));
  return Buffer.concat(chunks)
    .toString("utf8")
    .split("\n")
    .filter(Boolean)
    .filter((line) => JSON.parse(line).Actor?.Attributes?.name === tag).length;
}
