/**
 * The tool policies' API: the instance's policy and each repo's override (null inherits), read
 * by everyone signed in and changed by admins only, with bad input refused whole.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, closeForGood, json, setUpAdmin, signIn, startTestPier } from "../support/pier.ts";
import { addRepo } from "../support/sessions.ts";

describe("tool policy API", () => {
  let pier: TestPier;
  let admin: string;
  let member: string;
  let repoId: string;

  const call = async (method: string, path: string, body?: unknown, who = admin) => {
    const res = await pier.fetch(path, { method, headers: { cookie: who, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, headers: res.headers, body: (await res.json()) as any };
  };

  beforeAll(async () => {
    pier = await startTestPier({ PIER_ALLOW_LOCAL_REPOS: "1" });
    admin = await setUpAdmin(pier);
    await pier.fetch("/api/users", json({ username: "mo", password: "mo password!", role: "member" }, { cookie: admin }));
    member = await signIn(pier, "mo", "mo password!");
    repoId = await addRepo(pier, admin, `file://${makeRemoteRepo("policied").path}`, "policied");
  }, 60_000);

  afterAll(async () => {
    await closeForGood(pier);
  }, 60_000);

  test("a fresh install allows every tool; everyone signed in reads the policy, nobody else", async () => {
    expect(await call("GET", "/api/config/tool-policies")).toMatchObject({ status: 200, body: { mode: "allow_all", allowed: [], denied: [], ask: [] } });
    expect((await call("GET", "/api/config/tool-policies", undefined, member)).status).toBe(200);
    expect((await pier.fetch("/api/config/tool-policies")).status).toBe(401);
    expect((await pier.fetch(`/api/repos/${repoId}/tool-policy`)).status).toBe(401);
    expect((await pier.fetch("/api/config/tool-policies", { ...json({ mode: "deny_all" }), method: "PUT" })).status).toBe(401);
  });

  test("an admin sets the global policy; a member cannot, and bad input is a 400 naming the field that changes nothing", async () => {
    const policy = { mode: "custom", allowed: ["read_file", "list_files"], denied: ["mcp__github__*"], ask: ["bash"] };
    expect(await call("PUT", "/api/config/tool-policies", policy)).toMatchObject({ status: 200, body: policy });
    expect((await call("GET", "/api/config/tool-policies", undefined, member)).body).toEqual(policy);

    const refused = await call("PUT", "/api/config/tool-policies", { mode: "allow_all" }, member);
    expect(refused).toMatchObject({ status: 403, body: { error: { code: "forbidden" } } });

    const bad: Array<[unknown, string]> = [
      [{}, "mode"],
      [{ mode: "sometimes" }, "mode"],
      [{ mode: "custom", allowed: "bash" }, "allowed"],
      [{ mode: "custom", ask: [42] }, "ask"],
      [{ mode: "custom", denied: ["rm -rf /"] }, "denied"],
      [{ mode: "custom", allowed: ["bash"], ask: ["bash"] }, "ask"],
      [{ mode: "custom", denied: Array.from({ length: 201 }, (_, i) => `t${i}`) }, "denied"],
    ];
    for (const [body, field] of bad) {
      const res = await call("PUT", "/api/config/tool-policies", body);
      expect(`${JSON.stringify(body).slice(0, 60)} → ${res.status} ${res.body.error?.field}`).toBe(`${JSON.stringify(body).slice(0, 60)} → 400 ${field}`);
      expect(res.body.error.message).toMatch(/\.$/);
    }
    const both = await call("PUT", "/api/config/tool-policies", { mode: "custom", allowed: ["bash"], ask: ["bash"] });
    expect(both.body.error.message).toBe("bash is in both allowed and ask; put each tool in one list.");
    expect((await call("GET", "/api/config/tool-policies")).body).toEqual(policy);
  });

  test("a repo inherits (null) until an admin overrides it; null inherits again; unknown repos are 404", async () => {
    const inherits = await call("GET", `/api/repos/${repoId}/tool-policy`, undefined, member);
    expect(inherits).toMatchObject({ status: 200, body: null });
    expect(inherits.headers.get("content-type")).toContain("application/json");
    expect(inherits.headers.get("x-content-type-options")).toBe("nosniff");

    const override = { mode: "deny_all" as const, allowed: [], denied: [], ask: [] };
    expect((await call("PUT", `/api/repos/${repoId}/tool-policy`, override, member)).status).toBe(403);
    expect(await call("PUT", `/api/repos/${repoId}/tool-policy`, override)).toMatchObject({ status: 200, body: override });
    expect((await call("GET", `/api/repos/${repoId}/tool-policy`, undefined, member)).body).toEqual(override);
    expect(pier.pier.policies.effective(repoId)).toEqual({ policy: override, source: "repo" });

    expect((await call("PUT", `/api/repos/${repoId}/tool-policy`, { mode: "custom", denied: ["a b"] })).status).toBe(400);
    expect((await call("GET", `/api/repos/${repoId}/tool-policy`)).body).toEqual(override);

    expect((await call("PUT", `/api/repos/${repoId}/tool-policy`, null, member)).status).toBe(403);
    expect(await call("PUT", `/api/repos/${repoId}/tool-policy`, null)).toMatchObject({ status: 200, body: null });
    expect((await call("GET", `/api/repos/${repoId}/tool-policy`)).body).toBeNull();
    expect(pier.pier.policies.effective(repoId).source).toBe("global");

    expect((await call("GET", "/api/repos/nope/tool-policy")).status).toBe(404);
    expect((await call("PUT", "/api/repos/nope/tool-policy", override)).status).toBe(404);
  });

  test("removing a repo removes its override", async () => {
    const other = await addRepo(pier, admin, `file://${makeRemoteRepo("short-lived").path}`, "short-lived");
    await call("PUT", `/api/repos/${other}/tool-policy`, { mode: "deny_all" });
    expect((await pier.fetch(`/api/repos/${other}`, { method: "DELETE", headers: { cookie: admin } })).status).toBe(204);
    expect(pier.pier.db.$client.query("SELECT count(*) AS n FROM repo_tool_policies WHERE repo_id = ?").get(other)).toEqual({ n: 0 });
  });
});
