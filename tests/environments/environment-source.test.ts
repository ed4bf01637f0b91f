import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readEnvironment } from "../../src/environments/environment-source.ts";
import { Mirrors } from "../../src/repos/mirrors.ts";
import type { Repo } from "../../src/repos/repos.ts";
import { type RemoteRepo, commitFiles, makeRemoteRepo, repoRecord } from "../support/git-fixtures.ts";

/** A repository's environment read from a real mirror of a real git repository: the fixtures are commits. */

const dataDirs: string[] = [];
afterAll(() => {
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
});

function newMirrors(): Mirrors {
  const dataDir = mkdtempSync(join(tmpdir(), "pier-env-source-"));
  dataDirs.push(dataDir);
  return new Mirrors(dataDir, async () => null);
}

const repoOf = repoRecord;

/** Changes the remote's main branch in one pushed commit (see commitFiles). */
const commit = (remote: RemoteRepo, files: Parameters<typeof commitFiles>[1], message = "Change the environment") => commitFiles(remote, files, message);

const DEVCONTAINER = `{
  // Built from the Dockerfile next to this file, from the repository's root.
  "build": { "dockerfile": "Dockerfile", "context": "..", "args": { "NODE": "20" } },
  "features": { "./tools": {} },
  "postCreateCommand": "npm ci",
}`;

const PROJECT = {
  ".devcontainer/devcontainer.json": DEVCONTAINER,
  ".devcontainer/Dockerfile": "FROM pier-workspace:latest\nARG NODE\n",
  ".devcontainer/tools/devcontainer-feature.json": '{ "id": "tools", "version": "1.0.0" }\n',
  ".devcontainer/tools/install.sh": "#!/bin/sh\necho installing\n",
  "src/index.js": "console.log('hello');\n",
};

describe("where a repository's configuration is", () => {
  let remote: RemoteRepo;
  let mirrors: Mirrors;
  beforeEach(() => {
    remote = makeRemoteRepo("envsource");
    mirrors = newMirrors();
  });

  test("a mirror not fetched yet gives the repo's image or Pier's, without an error, for the caller to fetch", async () => {
    commit(remote, PROJECT);
    expect(await readEnvironment(mirrors, repoOf(remote))).toEqual({ source: "default", candidates: [], configPath: null, config: null, hash: null, commit: null, error: null });
    expect((await readEnvironment(mirrors, repoOf(remote, { image: "node:20" }))).source).toBe("image");
  });

  test("a repository without a devcontainer.json is made from its image, else Pier's, at the commit read", async () => {
    const repo = repoOf(remote);
    await mirrors.update(repo);
    const plain = await readEnvironment(mirrors, repo);
    expect(plain).toEqual({ source: "default", candidates: [], configPath: null, config: null, hash: null, commit: remote.git("rev-parse", "origin/main"), error: null });
    expect((await readEnvironment(mirrors, { ...repo, image: "node:20" })).source).toBe("image");
    // A .devcontainer folder with no devcontainer.json in it is no configuration either.
    commit(remote, { ".devcontainer/README.md": "nothing here\n" });
    await mirrors.update(repo);
    expect((await readEnvironment(mirrors, repo)).source).toBe("default");
  });

  test("every devcontainer.json is a candidate, in the spec's order; the first is chosen unless the repo names one", async () => {
    commit(remote, {
      ...PROJECT,
      ".devcontainer.json": '{ "image": "debian:bookworm" }',
      ".devcontainer/python/devcontainer.json": '{ "image": "python:3.13", "remoteUser": "vscode" }',
      ".devcontainer/go/devcontainer.json": '{ "image": "golang:1.25" }',
      ".devcontainer/empty/README.md": "no configuration here\n",
    });
    const repo = repoOf(remote);
    await mirrors.update(repo);
    const first = await readEnvironment(mirrors, repo);
    expect(first.candidates).toEqual([".devcontainer/devcontainer.json", ".devcontainer.json", ".devcontainer/go/devcontainer.json", ".devcontainer/python/devcontainer.json"]);
    expect(first.source).toBe("devcontainer");
    expect(first.configPath).toBe(".devcontainer/devcontainer.json");
    expect(first.config!.build).toEqual({ dockerfile: ".devcontainer/Dockerfile", context: "", args: { NODE: "20" }, target: null });
    expect(first.config!.features).toEqual([{ id: ".devcontainer/tools", local: true, options: {} }]);
    expect(first.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(first.error).toBeNull();

    const python = await readEnvironment(mirrors, { ...repo, devcontainerPath: ".devcontainer/python/devcontainer.json" });
    expect(python.configPath).toBe(".devcontainer/python/devcontainer.json");
    expect(python.config!.image).toBe("python:3.13");
    expect(python.config!.remoteUser).toBe("vscode");
    expect(python.hash).not.toBe(first.hash);

    const missing = await readEnvironment(mirrors, { ...repo, devcontainerPath: ".devcontainer/rust/devcontainer.json" });
    expect(missing).toMatchObject({ source: "devcontainer", configPath: ".devcontainer/rust/devcontainer.json", config: null, hash: null });
    expect(missing.error).toBe(
      "Devcontainer path .devcontainer/rust/devcontainer.json is not in main; pick one of: .devcontainer/devcontainer.json, .devcontainer.json, .devcontainer/go/devcontainer.json, .devcontainer/python/devcontainer.json.",
    );
  });

  test("a session's base branch is read instead of the default branch when asked", async () => {
    const repo = repoOf(remote);
    remote.git("checkout", "--quiet", "feature/login");
    const work = remote.git("rev-parse", "--show-toplevel");
    writeFileSync(join(work, ".devcontainer.json"), '{ "image": "node:22" }');
    remote.git("add", ".devcontainer.json");
    remote.git("commit", "--quiet", "-m", "Try Node 22");
    remote.git("push", "--quiet", "origin", "feature/login");
    remote.git("checkout", "--quiet", "main");
    await mirrors.update(repo);
    expect((await readEnvironment(mirrors, repo)).source).toBe("default");
    const login = await readEnvironment(mirrors, repo, "refs/heads/feature/login");
    expect(login.config!.image).toBe("node:22");
    expect(login.commit).toBe(remote.git("rev-parse", "origin/feature/login"));
    expect((await readEnvironment(mirrors, repo, "refs/heads/gone")).error).toBe("The branch gone is not in the repository's mirror.");
  });

  test("a malformed, oversized or non-text configuration is a sentence (the parser's with its line), and no pod is made from something else", async () => {
    commit(remote, { ".devcontainer/devcontainer.json": '{\n  "image": "node:20"\n  "remoteUser": "node"\n}' });
    const repo = repoOf(remote, { image: "debian:bookworm" });
    await mirrors.update(repo);
    const read = await readEnvironment(mirrors, repo);
    expect(read).toMatchObject({ source: "devcontainer", configPath: ".devcontainer/devcontainer.json", config: null, hash: null });
    expect(read.error).toBe(".devcontainer/devcontainer.json line 3, column 3: a comma was expected.");

    commit(remote, { ".devcontainer/devcontainer.json": `{ "name": "${"x".repeat(300 * 1024)}" }` });
    await mirrors.update(repo);
    expect((await readEnvironment(mirrors, repo)).error).toBe(".devcontainer/devcontainer.json: the file has 301 KiB; a devcontainer.json may have at most 256 KiB.");

    commit(remote, { ".devcontainer/devcontainer.json": Buffer.from([0x7b, 0xff, 0xfe, 0x7d]) });
    await mirrors.update(repo);
    expect((await readEnvironment(mirrors, repo)).error).toBe(".devcontainer/devcontainer.json is not UTF-8 text.");
  });
});

describe("what is never followed", () => {
  test("a symbolic link where devcontainer.json should be is refused with a sentence, not followed", async () => {
    const remote = makeRemoteRepo("envlink");
    const mirrors = newMirrors();
    const repo = repoOf(remote);
    commit(remote, { "elsewhere.json": '{ "image": "node:20" }', ".devcontainer/devcontainer.json": { link: "../elsewhere.json" } });
    await mirrors.update(repo);
    const linked = await readEnvironment(mirrors, repo);
    expect(linked).toMatchObject({ source: "devcontainer", candidates: [".devcontainer/devcontainer.json"], config: null, hash: null });
    expect(linked.error).toBe(".devcontainer/devcontainer.json is a symbolic link; Pier reads a repository's configuration only from its own files, never through a link.");

    // A link to a file outside the repository says the same, and nothing of the server's is read.
    commit(remote, { ".devcontainer/devcontainer.json": { link: "/etc/passwd" } });
    await mirrors.update(repo);
    expect((await readEnvironment(mirrors, repo)).error).toContain("is a symbolic link");

    // So does a .devcontainer folder that is a link itself.
    commit(remote, { ".devcontainer": { link: "config" }, "config/devcontainer.json": '{ "image": "node:20" }' });
    await mirrors.update(repo);
    const folder = await readEnvironment(mirrors, repo);
    expect(folder.configPath).toBe(".devcontainer/devcontainer.json");
    expect(folder.error).toBe(".devcontainer is a symbolic link; Pier reads a repository's configuration only from its own files, never through a link.");

    // And a Dockerfile that is a link.
    commit(remote, { ".devcontainer": null, ".devcontainer.json": '{ "build": { "dockerfile": "docker/Dockerfile" } }', "docker/Dockerfile": { link: "/etc/shadow" } });
    await mirrors.update(repo);
    expect((await readEnvironment(mirrors, repo)).error).toBe("The Dockerfile docker/Dockerfile is a symbolic link; Pier builds only from a repository's own files, never through a link.");
  });

  test("a submodule where devcontainer.json should be is refused with a sentence", async () => {
    const remote = makeRemoteRepo("envsubmodule");
    const mirrors = newMirrors();
    const repo = repoOf(remote);
    const someCommit = remote.git("rev-parse", "HEAD");
    remote.git("update-index", "--add", "--cacheinfo", `160000,${someCommit},.devcontainer.json`);
    remote.git("commit", "--quiet", "-m", "A submodule where the configuration would be");
    remote.git("push", "--quiet", "origin", "main");
    await mirrors.update(repo);
    const read = await readEnvironment(mirrors, repo);
    expect(read.error).toBe(".devcontainer.json is a submodule; Pier reads a repository's configuration only from its own files.");
  });

  test("a Dockerfile or local feature the commit does not have is said, naming it", async () => {
    const remote = makeRemoteRepo("envmissing");
    const mirrors = newMirrors();
    const repo = repoOf(remote);
    commit(remote, { ".devcontainer/devcontainer.json": '{ "build": { "dockerfile": "Dockerfile" } }' });
    await mirrors.update(repo);
    expect((await readEnvironment(mirrors, repo)).error).toBe("The Dockerfile .devcontainer/Dockerfile is not in main.");
    commit(remote, { ".devcontainer/devcontainer.json": '{ "image": "node:20", "features": { "./tools": {} } }' });
    await mirrors.update(repo);
    expect((await readEnvironment(mirrors, repo)).error).toBe("The local feature .devcontainer/tools is not in main.");
  });
});

describe("the environment's hash", () => {
  let remote: RemoteRepo;
  let mirrors: Mirrors;
  let repo: Repo;
  beforeEach(async () => {
    remote = makeRemoteRepo("envhash");
    mirrors = newMirrors();
    repo = repoOf(remote);
    commit(remote, PROJECT);
    await mirrors.update(repo);
  });

  async function hashAfter(files: Record<string, string | null>): Promise<{ hash: string | null; commit: string | null }> {
    commit(remote, files);
    await mirrors.update(repo);
    const read = await readEnvironment(mirrors, repo);
    expect(read.error).toBeNull();
    return { hash: read.hash, commit: read.commit };
  }

  test("stays the same across commits outside the configuration's folder, though the build context is the repository's root", async () => {
    const before = await readEnvironment(mirrors, repo);
    const after = await hashAfter({ "src/index.js": "console.log('changed');\n", "README.md": "# widgets, changed\n" });
    expect(after.commit).not.toBe(before.commit);
    expect(after.hash).toBe(before.hash!);
    // Reading again at the same commit gives the same hash.
    expect((await readEnvironment(mirrors, repo)).hash).toBe(before.hash!);
  });

  test("changes with the configuration, its Dockerfile, a local feature or a file beside them", async () => {
    const seen = new Set([(await readEnvironment(mirrors, repo)).hash]);
    const changes: Array<Record<string, string | null>> = [
      { ".devcontainer/devcontainer.json": DEVCONTAINER.replace('"NODE": "20"', '"NODE": "22"') },
      { ".devcontainer/Dockerfile": "FROM pier-workspace:latest\nARG NODE\nRUN true\n" },
      { ".devcontainer/tools/install.sh": "#!/bin/sh\necho installing, differently\n" },
      { ".devcontainer/setup.sh": "#!/bin/sh\necho a script the Dockerfile could COPY\n" },
    ];
    for (const change of changes) {
      const { hash } = await hashAfter(change);
      expect(hash).toMatch(/^[0-9a-f]{64}$/);
      expect(seen.has(hash)).toBe(false);
      seen.add(hash);
    }
  });

  test("for a configuration at the repository's root: its Dockerfile counts, the rest of the repository does not", async () => {
    const first = await hashAfter({
      ".devcontainer": null,
      ".devcontainer.json": '{ "build": { "dockerfile": "Dockerfile" }, "features": { "./tools": {} } }',
      Dockerfile: "FROM pier-workspace:latest\n",
      "tools/install.sh": "#!/bin/sh\n",
    });
    expect((await hashAfter({ "src/index.js": "console.log('again');\n" })).hash).toBe(first.hash);
    const dockerfile = await hashAfter({ Dockerfile: "FROM pier-workspace:latest\nRUN true\n" });
    expect(dockerfile.hash).not.toBe(first.hash);
    expect((await hashAfter({ "tools/install.sh": "#!/bin/sh\necho more\n" })).hash).not.toBe(dockerfile.hash);
  });
});
