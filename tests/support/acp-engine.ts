/**
 * What the tests of the ACP engine with a real agent share: a Pier whose pods use the host's
 * network (PIER_POD_NETWORK=host), so that the agent in the pod reaches Pier's gateway on
 * 127.0.0.1 and through it the test's fake model server; nothing else is reached. An admin, the
 * instance's key for the agent's service, one repository, and a few verbs the tests use.
 */
import { expect } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { commitFiles, makeRemoteRepo } from "./git-fixtures.ts";
import { type TestPier, closeForGood, json, setUpAdmin, startTestPier } from "./pier.ts";
import { type SessionJson, activeSession, addRepo } from "./sessions.ts";
import { dockerTestEnv } from "./workspace-image.ts";

export interface AcpTestPier {
  pier: TestPier;
  cookie: string;
  repoId: string;
  /** The headers of the admin's requests and chat sockets. */
  headers(): Record<string, string>;
  /** Replaces the tool policy. */
  setPolicy(policy: Record<string, unknown>): Promise<void>;
  /** Starts a session with the agent and waits until it is active. */
  startSession(body: Record<string, unknown>): Promise<SessionJson>;
  /** Runs a script in the session's pod, in its worktree. */
  podSh(session: SessionJson, script: string): Promise<{ stdout: string; stderr: string; exitCode: number }>;
  /** Ends the sessions and closes Pier for good (see closeForGood). */
  close(): Promise<void>;
}

/**
 * `env`: what points Pier at the fake (ANTHROPIC_BASE_URL, GEMINI_BASE_URL…); `settings`: the
 * instance's key for it; `files`: what the repository holds beside its README.
 */
export async function startAcpTestPier(name: string, env: Record<string, string>, settings: Record<string, unknown>, files: Record<string, string | Buffer> = {}): Promise<AcpTestPier> {
  const dataDir = mkdtempSync(join(tmpdir(), `pier-${name}-`));
  const pier = await startTestPier({ ...(await dockerTestEnv()), PIER_POD_NETWORK: "host", ...env }, dataDir);
  const cookie = await setUpAdmin(pier);
  const headers = () => ({ cookie, origin: pier.url });
  const put = await pier.fetch("/api/settings", { ...json(settings, headers()), method: "PUT" });
  expect(put.status).toBe(200);
  const remote = makeRemoteRepo(name);
  if (Object.keys(files).length > 0) commitFiles(remote, files);
  const repoId = await addRepo(pier, cookie, `file://${remote.path}`, name);
  const started: SessionJson[] = [];
  return {
    pier,
    cookie,
    repoId,
    headers,
    async setPolicy(policy) {
      const res = await pier.fetch("/api/config/tool-policies", { ...json(policy, headers()), method: "PUT" });
      expect(res.status).toBe(200);
    },
    async startSession(body) {
      const session = await activeSession(pier, cookie, { repoId, ...body });
      started.push(session);
      return session;
    },
    podSh: (session, script) => pier.pier.runtime.exec({ id: session.podId!, image: "" }, ["bash", "-c", script], { cwd: session.worktreePath }),
    async close() {
      for (const session of started) await pier.fetch(`/api/sessions/${session.id}/end`, json({}, { cookie }));
      await closeForGood(pier);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Waits until the fake has been asked more than `before` times (the agent's turn is under way, waiting for the model). */
export async function untilAsked(asked: () => number, before: number): Promise<void> {
  for (let i = 0; asked() === before; i++) {
    expect(i).toBeLessThan(1200);
    await Bun.sleep(100);
  }
}
