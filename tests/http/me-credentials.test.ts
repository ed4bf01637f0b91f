import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type TestPier, closeForGood, json, setUpAdmin, signIn, startTestPier } from "../support/pier.ts";
import { apiError } from "../support/sessions.ts";

describe("a person's own credentials", () => {
  let pier: TestPier;
  let admin: string;
  let member: string;
  let memberId: string;
  const put = (cookie: string, body: unknown) => pier.fetch("/api/me/credentials", { ...json(body, { cookie }), method: "PUT" });
  type Masked = { set: boolean; mask: string | null; source: string | null };
  const view = async (cookie: string) => (await pier.fetch("/api/me/credentials", { headers: { cookie } })).json() as Promise<Record<"githubToken" | "anthropicApiKey" | "claudeCodeOauthToken", Masked>>;

  beforeAll(async () => {
    pier = await startTestPier();
    admin = await setUpAdmin(pier);
    await pier.fetch("/api/settings", { ...json({ githubToken: "ghp_instance0000000000000000000000000" }, { cookie: admin }), method: "PUT" });
    const created = await pier.fetch("/api/users", json({ username: "mia", password: "mia password", role: "member" }, { cookie: admin }));
    memberId = ((await created.json()) as { user: { id: string } }).user.id;
    member = await signIn(pier, "mia", "mia password");
  }, 60_000);

  afterAll(() => closeForGood(pier));

  test("without your own, the instance's is in use; yours wins once set, is shown masked, and stays yours", async () => {
    // The instance's is in use, and nothing of it shows.
    expect((await view(member)).githubToken).toEqual({ set: true, mask: "••••••••", source: "settings" });
    expect(await pier.pier.credentials.githubToken(memberId)).toBe("ghp_instance0000000000000000000000000");
    const saved = await put(member, { githubToken: "ghp_mias_own_token_1234567890abcd", anthropicApiKey: "sk-ant-mia-0000000000000000" });
    expect(saved.status).toBe(200);
    const mine = await view(member);
    expect(mine.githubToken).toEqual({ set: true, mask: "••••••••abcd", source: "yours" });
    expect(mine.anthropicApiKey).toMatchObject({ set: true, source: "yours" });
    expect(JSON.stringify(mine)).not.toContain("ghp_mias_own");
    expect(await pier.pier.credentials.githubToken(memberId)).toBe("ghp_mias_own_token_1234567890abcd");
    expect((await view(admin)).githubToken.source).toBe("settings");
    // Sealed at rest: the database and its WAL never hold the value.
    for (const file of ["pier.db", "pier.db-wal"]) expect(readFileSync(join(pier.dataDir, file)).includes("ghp_mias_own")).toBe(false);
  });

  test("a bad value is refused and changes nothing; an empty one clears yours", async () => {
    const bad = await apiError(await put(member, { githubToken: "has spaces in it", anthropicApiKey: "" }));
    expect(bad).toMatchObject({ status: 400, code: "invalid_github_token" });
    expect((await view(member)).anthropicApiKey.source).toBe("yours");
    expect((await put(member, { githubToken: "" })).status).toBe(200);
    expect((await view(member)).githubToken.source).toBe("settings");
    expect((await view(member)).anthropicApiKey.source).toBe("yours");
  });

  test("without a sign-in there is nothing to see or change", async () => {
    expect((await pier.fetch("/api/me/credentials")).status).toBe(401);
    expect((await pier.fetch("/api/me/credentials", { ...json({ githubToken: "ghp_x" }), method: "PUT" })).status).toBe(401);
  });
});
