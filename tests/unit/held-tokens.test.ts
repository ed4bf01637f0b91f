import { afterEach, expect, setSystemTime, test } from "bun:test";
import { HeldTokens } from "../../src/auth/held-tokens.ts";

const HOUR = 60 * 60_000;

afterEach(() => setSystemTime());

/** HeldTokens over a mint that records what it was asked for. */
function held() {
  const minted: Array<{ sessionId: string; lifetimeMs: number; token: string }> = [];
  const tokens = new HeldTokens(12 * HOUR, (sessionId, lifetimeMs) => {
    const token = `t${minted.length + 1}`;
    minted.push({ sessionId, lifetimeMs, token });
    return token;
  });
  return { tokens, minted };
}

test("asking again gives the same token while more than half its life is left, then a fresh one of the full lifetime", () => {
  const start = new Date("2030-01-01T00:00:00Z").getTime();
  setSystemTime(start);
  const { tokens, minted } = held();
  const first = tokens.for("s1");
  for (let i = 0; i < 100; i++) expect(tokens.for("s1")).toBe(first);
  setSystemTime(start + 6 * HOUR - 1000);
  expect(tokens.for("s1")).toBe(first);
  setSystemTime(start + 6 * HOUR + 1000);
  const second = tokens.for("s1");
  expect(second).not.toBe(first);
  expect(tokens.for("s1")).toBe(second);
  expect(minted).toEqual([
    { sessionId: "s1", lifetimeMs: 12 * HOUR, token: first },
    { sessionId: "s1", lifetimeMs: 12 * HOUR, token: second },
  ]);
});

test("each session has its own, and a forgotten session's token is never handed back", () => {
  const { tokens, minted } = held();
  const mine = tokens.for("s1");
  const theirs = tokens.for("s2");
  expect(theirs).not.toBe(mine);
  tokens.forget("s1");
  const fresh = tokens.for("s1");
  expect(fresh).not.toBe(mine);
  expect(tokens.for("s2")).toBe(theirs);
  expect(minted.map((m) => m.sessionId)).toEqual(["s1", "s2", "s1"]);
});
