import { describe, expect, test } from "bun:test";
import { sessionNotices } from "../../src/notices/notices.ts";

describe("the standing notices a live session's page shows", () => {
  const active = { state: "active" as const, taskId: null };

  test("where pods cannot reach Pier: the gateway only for Claude Code's chat, the MCP endpoint only with a task", () => {
    expect(sessionNotices({ ...active, engine: "pier" }, false)).toEqual([]);
    expect(sessionNotices({ ...active, engine: "pier", taskId: "t1" }, false)).toEqual(["mcp-unreachable"]);
    expect(sessionNotices({ ...active, engine: "claude-code" }, false)).toEqual(["gateway-unreachable"]);
    expect(sessionNotices({ ...active, engine: "claude-code", taskId: "t1" }, false)).toEqual(["mcp-unreachable-claude-code", "gateway-unreachable"]);
  });

  test("an ACP agent: unmetered where pods cannot reach Pier, and always when its model service is none", () => {
    expect(sessionNotices({ ...active, engine: "acp" }, false, "openai")).toEqual(["gateway-unreachable-agent"]);
    expect(sessionNotices({ ...active, engine: "acp", taskId: "t1" }, false, "anthropic")).toEqual(["mcp-unreachable", "gateway-unreachable-agent"]);
    expect(sessionNotices({ ...active, engine: "acp" }, false, "none")).toEqual(["agent-not-metered"]);
    expect(sessionNotices({ ...active, engine: "acp" }, true, "none")).toEqual(["agent-not-metered"]);
    expect(sessionNotices({ ...active, engine: "acp" }, true, "gemini")).toEqual([]);
    // An agent whose definition is gone says nothing of its metering (its chat says it cannot run).
    expect(sessionNotices({ ...active, engine: "acp" }, false, null)).toEqual([]);
    expect(sessionNotices({ state: "ended", engine: "acp", taskId: null }, true, "none")).toEqual([]);
  });

  test("none where pods reach Pier, nor on a session that is not live", () => {
    expect(sessionNotices({ ...active, engine: "claude-code", taskId: "t1" }, true)).toEqual([]);
    for (const state of ["provisioning", "ended", "failed"] as const) {
      expect(sessionNotices({ state, engine: "claude-code", taskId: "t1" }, false)).toEqual([]);
    }
  });
});
