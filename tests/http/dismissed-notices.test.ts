/**
 * The notices a person dismissed (`GET, POST /api/me/dismissed`): kept per person on the server,
 * only notices Pier knows, nothing written on a refusal, signed in and from Pier's own pages only;
 * a dismissal is of the notice's words, so a notice that comes to say something new shows again.
 * The Dismiss button without JavaScript (`POST /notices/dismiss`) goes back only to Pier's pages.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type TestPier, closeForGood, createToken, json, setUpAdmin, signIn, startTestPier } from "../support/pier.ts";
import { apiError } from "../support/sessions.ts";

type Notices = { notices: Array<{ id: string; text: string; dismissed: boolean }> };

describe("dismissed notices", () => {
  let pier: TestPier;
  let admin: string;
  let member: string;
  const dismissed = async (cookie: string) => {
    const res = await pier.fetch("/api/me/dismissed", { headers: { cookie } });
    expect(res.status).toBe(200);
    return ((await res.json()) as Notices).notices.filter((n) => n.dismissed).map((n) => n.id);
  };
  const rows = () => (pier.pier.db.$client.query("SELECT count(*) AS n FROM dismissed_notices").get() as { n: number }).n;

  beforeAll(async () => {
    pier = await startTestPier();
    admin = await setUpAdmin(pier);
    await pier.fetch("/api/users", json({ username: "mia", password: "mia password", role: "member" }, { cookie: admin }));
    member = await signIn(pier, "mia", "mia password");
  }, 60_000);

  afterAll(() => closeForGood(pier));

  test("the notices that can be dismissed are listed with their words; a dismissal is the person's own", async () => {
    const listed = (await (await pier.fetch("/api/me/dismissed", { headers: { cookie: member } })).json()) as Notices;
    expect(listed.notices.map((n) => n.id).sort()).toEqual(["agent-not-metered", "gateway-unreachable", "gateway-unreachable-agent", "mcp-unreachable", "mcp-unreachable-claude-code"]);
    expect(listed.notices.find((n) => n.id === "gateway-unreachable")!.text).toContain("Pods cannot reach Pier here");
    expect(listed.notices.every((n) => !n.dismissed)).toBe(true);

    const res = await pier.fetch("/api/me/dismissed", json({ notice: "gateway-unreachable" }, { cookie: member, origin: pier.url }));
    expect(res.status).toBe(200);
    expect(((await res.json()) as Notices).notices.find((n) => n.id === "gateway-unreachable")!.dismissed).toBe(true);
    // Again is harmless.
    expect((await pier.fetch("/api/me/dismissed", json({ notice: "gateway-unreachable" }, { cookie: member }))).status).toBe(200);
    expect(await dismissed(member)).toEqual(["gateway-unreachable"]);
    expect(await dismissed(await signIn(pier, "mia", "mia password"))).toEqual(["gateway-unreachable"]);
    expect(await dismissed(admin)).toEqual([]);
  });

  test("an unknown notice, or none, is a 400 naming the field, and nothing is written", async () => {
    const before = rows();
    for (const body of [{ notice: "no-such-notice" }, { notice: 7 }, {}, { notices: "mcp-unreachable" }]) {
      const refused = await apiError(await pier.fetch("/api/me/dismissed", json(body, { cookie: admin })));
      expect(refused).toMatchObject({ status: 400, code: "invalid_notice" });
      expect(refused.message).toContain("Notice");
    }
    expect(rows()).toBe(before);
    expect(await dismissed(admin)).toEqual([]);
  });

  test("signed out is 401; from another site's page 403; a script's token needs no Origin", async () => {
    expect((await pier.fetch("/api/me/dismissed")).status).toBe(401);
    expect((await pier.fetch("/api/me/dismissed", json({ notice: "mcp-unreachable" }))).status).toBe(401);
    const before = rows();
    const crossSite = await pier.fetch("/api/me/dismissed", json({ notice: "mcp-unreachable" }, { cookie: admin, origin: "http://evil.example" }));
    expect(await apiError(crossSite)).toMatchObject({ status: 403, code: "cross_origin" });
    const crossSiteForm = await pier.fetch("/notices/dismiss", formPost({ notice: "mcp-unreachable", back: "/" }, { cookie: admin, "sec-fetch-site": "cross-site" }));
    expect(crossSiteForm.status).toBe(403);
    expect(rows()).toBe(before);
    const token = await createToken(pier, admin, "script");
    expect((await pier.fetch("/api/me/dismissed", json({ notice: "mcp-unreachable" }, { authorization: `Bearer ${token}` }))).status).toBe(200);
    expect(await dismissed(admin)).toEqual(["mcp-unreachable"]);
  });

  test("a notice whose words changed since it was dismissed shows again", async () => {
    expect(await dismissed(member)).toContain("gateway-unreachable");
    // As if mia had dismissed it when it said something else.
    pier.pier.db.$client.run("UPDATE dismissed_notices SET fingerprint = 'earlier-words' WHERE notice = 'gateway-unreachable'");
    expect(await dismissed(member)).not.toContain("gateway-unreachable");
    expect((await pier.fetch("/api/me/dismissed", json({ notice: "gateway-unreachable" }, { cookie: member }))).status).toBe(200);
    expect(await dismissed(member)).toContain("gateway-unreachable");
  });

  test("the Dismiss button without JavaScript dismisses and goes back to Pier's own page, never elsewhere", async () => {
    const back = await pier.fetch("/notices/dismiss", formPost({ notice: "mcp-unreachable-claude-code", back: "/sessions/abc?x=1" }, { cookie: member, origin: pier.url }));
    expect(back.status).toBe(303);
    expect(back.headers.get("location")).toBe("/sessions/abc?x=1");
    expect(await dismissed(member)).toContain("mcp-unreachable-claude-code");
    for (const away of ["//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"]) {
      const res = await pier.fetch("/notices/dismiss", formPost({ notice: "mcp-unreachable", back: away }, { cookie: member }));
      expect(`${away} → ${res.status} ${res.headers.get("location")}`).toBe(`${away} → 303 /`);
    }
    const unknown = await pier.fetch("/notices/dismiss", formPost({ notice: "no-such-notice", back: "/" }, { cookie: member }));
    expect(unknown.status).toBe(400);
    expect((await pier.fetch("/notices/dismiss", formPost({ notice: "mcp-unreachable", back: "/" }))).headers.get("location")).toBe("/login");
  });
});

function formPost(fields: Record<string, string>, headers: Record<string, string> = {}): RequestInit {
  return { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", ...headers }, body: new URLSearchParams(fields).toString() };
}
