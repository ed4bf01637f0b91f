import { expect } from "bun:test";
import type { TestPier } from "./pier.ts";
import { json } from "./pier.ts";

export type SessionJson = {
  id: string;
  repoId: string;
  userId: string;
  branch: string;
  baseRef: string;
  worktreePath: string;
  state: string;
  error: string | null;
  podId: string | null;
  engine: "pier" | "claude-code" | "acp";
  agent?: string;
  savedCommit: string | null;
  endedAt: string | null;
};

type ApiError = { error: { code: string; message: string } };

export async function addRepo(pier: Pick<TestPier, "fetch">, cookie: string, url: string, name?: string): Promise<string> {
  const res = await pier.fetch("/api/repos", json({ url, name }, { cookie }));
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

export async function startSession(pier: Pick<TestPier, "fetch">, cookie: string, body: Record<string, unknown>): Promise<Response> {
  return pier.fetch("/api/sessions", json(body, { cookie }));
}

/** Starts a session and waits until it is active (or fails the test with its error). */
export async function activeSession(pier: Pick<TestPier, "fetch">, cookie: string, body: Record<string, unknown>): Promise<SessionJson> {
  const res = await startSession(pier, cookie, body);
  const created = (await res.json()) as SessionJson & ApiError;
  expect(res.status, JSON.stringify(created)).toBe(201);
  expect(created.state).toBe("provisioning");
  return waitForState(pier, cookie, created.id, "active");
}

export async function waitForState(pier: Pick<TestPier, "fetch">, cookie: string, id: string, state: string, timeoutMs = 120_000): Promise<SessionJson> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const session = (await (await pier.fetch(`/api/sessions/${id}`, { headers: { cookie } })).json()) as SessionJson;
    if (session.state === state) return session;
    if (session.state === "failed" && state !== "failed") throw new Error(`session failed: ${session.error}`);
    if (Date.now() > deadline) throw new Error(`session stayed ${session.state}, wanted ${state}`);
    await Bun.sleep(50);
  }
}

export async function apiError(res: Response): Promise<{ status: number; code: string; message: string }> {
  const body = (await res.json()) as ApiError;
  return { status: res.status, code: body.error.code, message: body.error.message };
}
