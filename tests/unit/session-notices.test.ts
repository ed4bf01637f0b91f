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

  test("none where pods reach Pier, nor on a session that is not live", () => {
    expect(sessionNotices({ ...active, engine: "claude-code", taskId: "t1" }, true)).toEqual([]);
    for (const state of ["provisioning", "ended", "failed"] as const) {
      expect(sessionNotices({ state, engine: "claude-code", taskId: "t1" }, false)).toEqual([]);
    }
  });
});
