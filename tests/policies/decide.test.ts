/** What a tool policy decides of a tool's name, and which policies are refused before they are stored. */
import { describe, expect, test } from "bun:test";
import { AppError } from "../../src/infra/errors.ts";
import { ALLOW_ALL, MAX_LIST, type ToolPolicy, checkPolicy, covers, decide, describePolicy } from "../../src/policies/policy.ts";

const custom = (lists: Partial<Omit<ToolPolicy, "mode">>): ToolPolicy => ({ mode: "custom", allowed: [], denied: [], ask: [], ...lists });

describe("decide", () => {
  test("allow_all allows and deny_all denies every tool, whatever the lists say", () => {
    for (const tool of ["bash", "read_file", "mcp__github__create_issue"]) {
      expect(decide(ALLOW_ALL, tool)).toBe("allow");
      expect(decide({ ...ALLOW_ALL, denied: [tool] }, tool)).toBe("allow");
      expect(decide({ mode: "deny_all", allowed: [tool], denied: [], ask: [] }, tool)).toBe("deny");
    }
  });

  test("custom: denied wins, then ask, then allowed; a tool in no list is asked about", () => {
    const policy = custom({ allowed: ["read_file", "mcp__github__*"], denied: ["bash", "mcp__github__delete_repo"], ask: ["write_file", "mcp__github__create_*"] });
    expect(decide(policy, "bash")).toBe("deny");
    expect(decide(policy, "write_file")).toBe("ask");
    expect(decide(policy, "read_file")).toBe("allow");
    expect(decide(policy, "edit_file")).toBe("ask");
    expect(decide(policy, "mcp__github__list_issues")).toBe("allow");
    expect(decide(policy, "mcp__github__create_issue")).toBe("ask");
    expect(decide(policy, "mcp__github__delete_repo")).toBe("deny");
    expect(decide(policy, "mcp__jira__create_issue")).toBe("ask");
    expect(decide(custom({}), "read_file")).toBe("ask");
    expect(decide(custom({ denied: ["*"], allowed: ["read_file"] }), "read_file")).toBe("deny");
  });

  test("a name covers itself only; a trailing * covers a prefix", () => {
    expect(covers("bash", "bash")).toBe(true);
    expect(covers("bash", "bash_more")).toBe(false);
    expect(covers("mcp__github__*", "mcp__github__x")).toBe(true);
    expect(covers("mcp__github__*", "mcp__githubx__x")).toBe(false);
    expect(covers("*", "anything")).toBe(true);
  });
});

describe("checkPolicy", () => {
  const refusal = (lists: Record<string, unknown>) => {
    try {
      checkPolicy({ mode: "custom", ...lists } as never);
    } catch (error) {
      if (error instanceof AppError) return { status: error.status, field: error.field, message: error.message };
      throw error;
    }
    throw new Error("no refusal");
  };

  test("lists left out are empty, names repeated in a list count once, and lists are kept whatever the mode", () => {
    expect(checkPolicy({ mode: "custom" })).toEqual(custom({}));
    expect(checkPolicy({ mode: "custom", allowed: ["bash", "bash", "read_file"] }).allowed).toEqual(["bash", "read_file"]);
    expect(checkPolicy({ mode: "deny_all", ask: ["bash"] })).toEqual({ mode: "deny_all", allowed: [], denied: [], ask: ["bash"] });
  });

  test("a name in two lists, a name that is no tool name, and a list that is too long are 400s naming the list", () => {
    expect(refusal({ allowed: ["bash"], denied: ["bash"] })).toMatchObject({ status: 400, field: "denied", message: "bash is in both allowed and denied; put each tool in one list." });
    expect(refusal({ ask: ["rm -rf"] })).toMatchObject({ status: 400, field: "ask" });
    expect(refusal({ ask: ["rm -rf"] }).message).toContain('"rm -rf" is not a tool name');
    for (const bad of ["", "a*b", "**", "bash\n", "../x", "x".repeat(129), "mcp/github"]) expect(refusal({ denied: [bad] }).field).toBe("denied");
    expect(refusal({ allowed: Array.from({ length: MAX_LIST + 1 }, (_, i) => `tool_${i}`) })).toMatchObject({ field: "allowed", message: `Allowed may name at most ${MAX_LIST} tools.` });
    expect(checkPolicy({ mode: "custom", allowed: Array.from({ length: MAX_LIST }, (_, i) => `tool_${i}`) }).allowed).toHaveLength(MAX_LIST);
  });

  test("a policy in one sentence", () => {
    expect(describePolicy(ALLOW_ALL)).toBe("Every tool runs without asking.");
    expect(describePolicy(custom({ denied: ["bash"], allowed: ["read_file"] }))).toBe("Custom: refuses bash; runs read_file without asking; asks before any other tool.");
  });
});
