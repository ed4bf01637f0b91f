import { describe, expect, test } from "bun:test";
import { type ClaimRules, groupsOf, roleFor, usernameFrom, whyRefused } from "../../src/sso/claims.ts";
import { FLOW_LIFETIME_MS, type SignInFlow, SignInFlows } from "../../src/sso/sign-in-flows.ts";

const rules: ClaimRules = { name: "Corp", usernameClaim: "preferred_username", groupsClaim: "groups", adminGroup: "admins", allowedGroups: ["devs"], allowedDomains: ["example.com"] };

describe("who a provider's claims let in, and as whom", () => {
  test("a new person's username: lowercase, an address's local part, other characters as hyphens, or why not", () => {
    const name = (value: unknown, claim = "preferred_username") => usernameFrom({ ...rules, usernameClaim: claim }, { [claim]: value });
    expect(name("Ada.Lovelace")).toEqual({ username: "ada-lovelace" });
    expect(name("Grace@Example.com", "email")).toEqual({ username: "grace" });
    expect(name("__bob__")).toEqual({ username: "bob__" });
    expect(name("x".repeat(40))).toEqual({ username: "x".repeat(32) });
    expect(name("Zoë Ünal")).toEqual({ username: "zo-nal" });
    expect(name("é")).toMatchObject({ problem: expect.stringContaining("does not make a username") });
    expect(name(undefined)).toMatchObject({ problem: expect.stringContaining("sent no preferred_username claim") });
    expect(name(42)).toMatchObject({ problem: expect.stringContaining("sent no") });
  });

  test("allowed by group (the admin group counts) or by a verified address at an allowed domain; with no lists, everyone", () => {
    expect(whyRefused(rules, { groups: ["devs"] })).toBeNull();
    expect(whyRefused(rules, { groups: "devs" })).toBeNull();
    expect(whyRefused(rules, { groups: ["admins"] })).toBeNull();
    expect(whyRefused(rules, { email: "a@example.com", email_verified: true })).toBeNull();
    expect(whyRefused(rules, { email: "a@EXAMPLE.com", email_verified: "true" })).toBeNull();
    expect(whyRefused(rules, { email: "a@example.com" })).toContain("not among those allowed");
    expect(whyRefused(rules, { email: "a@example.com.evil.test", email_verified: true })).toContain("not among those allowed");
    expect(whyRefused(rules, { groups: ["devs-not"], email: "a@sub.example.com", email_verified: true })).toContain("not among those allowed");
    expect(whyRefused({ ...rules, allowedGroups: [], allowedDomains: [] }, {})).toBeNull();
  });

  test("the admin group makes an admin only through the groups claim", () => {
    expect(roleFor(rules, { groups: ["devs", "admins"] })).toBe("admin");
    expect(roleFor(rules, { groups: ["devs"] })).toBe("member");
    expect(roleFor(rules, { admins: true, groups: [{ name: "admins" }] })).toBe("member");
    expect(groupsOf({ ...rules, groupsClaim: null }, { groups: ["admins"] })).toEqual([]);
  });
});

describe("round trips under way", () => {
  const flow = (state: string): SignInFlow => ({ state, nonce: "n", codeVerifier: "v", redirectUri: "http://127.0.0.1/cb", providerId: "corp", purpose: { kind: "sign_in" }, next: "/" });

  test("taken once, by the browser that began it, within its lifetime; a wrong browser leaves it be", () => {
    const flows = new SignInFlows();
    flows.begin(flow("s1"), "browser-a", 0);
    expect(flows.take("s1", "browser-b", 1)).toBeNull();
    expect(flows.take("s1", null, 1)).toBeNull();
    expect(flows.take("s1", "browser-a", 1)?.state).toBe("s1");
    expect(flows.take("s1", "browser-a", 2)).toBeNull();
    flows.begin(flow("s2"), "browser-a", 0);
    expect(flows.take("s2", "browser-a", FLOW_LIFETIME_MS)).toBeNull();
  });

  test("the expired are dropped as new ones begin", () => {
    const flows = new SignInFlows();
    flows.begin(flow("old"), "b", 0);
    flows.begin(flow("new"), "b", FLOW_LIFETIME_MS + 1);
    expect(flows.take("old", "b", 1)).toBeNull();
    expect(flows.take("new", "b", FLOW_LIFETIME_MS + 2)?.state).toBe("new");
  });
});
