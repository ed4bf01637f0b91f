import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type TestPier, closeForGood, setUpAdmin, startTestPier } from "../support/pier.ts";

describe("GET /api/costs groupBy", () => {
  let pier: TestPier;
  let cookie: string;

  beforeAll(async () => {
    pier = await startTestPier();
    cookie = await setUpAdmin(pier);
  }, 60_000);
  afterAll(() => closeForGood(pier));

  const costs = (groupBy: string) => pier.fetch(`/api/costs?groupBy=${encodeURIComponent(groupBy)}`, { headers: { cookie } });

  test("names of Object.prototype's properties are refused like any unknown value", async () => {
    for (const groupBy of ["constructor", "toString", "__proto__", "hasOwnProperty", "valueOf", "nonsense"]) {
      const res = await costs(groupBy);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(`${groupBy} → ${res.status}`).toBe(`${groupBy} → 400`);
      expect(body.error.code).toBe("invalid_group_by");
      expect(body.error.message).toContain("groupBy");
    }
  });

  test("the valid values still answer", async () => {
    for (const groupBy of ["day", "model", "repo", "user", "session"]) {
      const res = await costs(groupBy);
      expect(`${groupBy} → ${res.status}`).toBe(`${groupBy} → 200`);
      expect(Array.isArray(await res.json())).toBe(true);
    }
    expect((await pier.fetch("/api/costs", { headers: { cookie } })).status).toBe(200);
  });
});
