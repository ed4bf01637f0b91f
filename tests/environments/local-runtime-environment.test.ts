/**
 * On the local runtime sessions run on the server itself, so a repository's devcontainer.json
 * cannot apply: the environment says so (it is still read, refusals and all), sessions start as
 * on any repository, and there is no pod to rebuild.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, closeForGood, setUpAdmin, startTestPier } from "../support/pier.ts";
import { activeSession, addRepo, apiError } from "../support/sessions.ts";

let pier: TestPier;
let cookie: string;
let repoId: string;

beforeAll(async () => {
  const remote = makeRemoteRepo("local-env");
  const work = join(dirname(remote.path), "work");
  mkdirSync(join(work, ".devcontainer"), { recursive: true });
  writeFileSync(join(work, ".devcontainer", "devcontainer.json"), JSON.stringify({ image: "debian:bookworm", capAdd: ["SYS_ADMIN"], postCreateCommand: "touch created" }));
  remote.git("add", "-A");
  remote.git("commit", "--quiet", "-m", "Environment");
  remote.git("push", "--quiet", "origin", "main");
  Bun.spawnSync(["chmod", "-R", "a+rX", dirname(remote.path)]);
  pier = await startTestPier({ PIER_RUNTIME: "local", PIER_ALLOW_LOCAL_REPOS: "1" });
  cookie = await setUpAdmin(pier);
  repoId = await addRepo(pier, cookie, remote.path, "local-env");
}, 60_000);

afterAll(async () => {
  await closeForGood(pier);
}, 60_000);

test("the environment says the devcontainer is not applied here, a session starts without it, and there is no pod to rebuild", async () => {
  const session = await activeSession(pier, cookie, { repoId });
  const environment = (await (await pier.fetch(`/api/repos/${repoId}/environment`, { headers: { cookie } })).json()) as {
    source: string;
    state: string;
    error: string | null;
    refused: Array<{ key: string }>;
  };
  expect(environment.source).toBe("devcontainer");
  expect(environment.state).toBe("none");
  expect(environment.error).toContain("local runtime");
  expect(environment.refused.map((r) => r.key)).toEqual(["capAdd"]);
  // Its postCreateCommand did not run: nothing of the file applies on this runtime.
  expect(await Bun.file(join(session.worktreePath, "created")).exists()).toBe(false);
  const rebuild = await pier.fetch(`/api/repos/${repoId}/environment/rebuild`, { method: "POST", headers: { cookie } });
  expect(await apiError(rebuild)).toMatchObject({ status: 409, code: "no_environments" });
});
