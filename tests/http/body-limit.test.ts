import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ADMIN, type TestPier, closeForGood, json, setUpAdmin, startTestPier } from "../support/pier.ts";
import { postLargeBody, residentMiB } from "../support/large-body.ts";

const MiB = 1024 * 1024;

/** Request bodies are bounded: over 1 MiB is refused with 413 before it is read. */
describe("request body limits", () => {
  let pier: TestPier;

  beforeAll(async () => {
    pier = await startTestPier();
    await setUpAdmin(pier);
  }, 60_000);
  afterAll(() => closeForGood(pier));

  const tooLarge = (body: string) => {
    const error = (JSON.parse(body) as { error: { code: string; message: string } }).error;
    expect(error.code).toBe("payload_too_large");
    expect(error.message).toContain("1 MiB");
  };

  test("three parallel 100 MB chunked bodies to the login are refused with 413, barely read, and memory barely grows", async () => {
    Bun.gc(true);
    const before = residentMiB();
    const started = performance.now();
    const answers = await Promise.all(
      [1, 2, 3].map(() => postLargeBody(pier.url, "/api/auth/login", { bytes: 100 * MiB, declareLength: false })),
    );
    const seconds = (performance.now() - started) / 1000;
    const grown = residentMiB() - before;
    for (const answer of answers) {
      expect(answer.status).toBe(413);
      tooLarge(answer.body);
      expect(answer.sentBytes).toBeLessThan(20 * MiB);
    }
    expect(grown).toBeLessThan(40);
    expect(seconds).toBeLessThan(10);
  }, 60_000);

  test("three parallel bodies that declare 100 MB are refused with 413 before they are read", async () => {
    Bun.gc(true);
    const before = residentMiB();
    const answers = await Promise.all(
      [1, 2, 3].map(() => postLargeBody(pier.url, "/api/auth/login", { bytes: 100 * MiB, declareLength: true })),
    );
    for (const answer of answers) {
      expect(answer.status).toBe(413);
      expect(answer.sentBytes).toBeLessThan(20 * MiB);
    }
    expect(residentMiB() - before).toBeLessThan(40);
  }, 60_000);

  test("a body declared a little over the limit gets the API's JSON error, or an error page for a form", async () => {
    const api = await postLargeBody(pier.url, "/api/tokens", { bytes: 2 * MiB, declareLength: true });
    expect(api.status).toBe(413);
    expect(api.headers).toMatch(/content-type: application\/json/i);
    tooLarge(api.body);

    const page = await postLargeBody(pier.url, "/login", { bytes: 2 * MiB, declareLength: true, contentType: "application/x-www-form-urlencoded" });
    expect(page.status).toBe(413);
    expect(page.headers).toMatch(/content-type: text\/html/i);
    expect(page.body).toContain("1 MiB");
  }, 60_000);

  test("a route that states its own limit gets it: GitHub's webhook reads 2 MiB, chunked or not, and refuses what passes 25 MiB", async () => {
    for (const declareLength of [true, false]) {
      const read = await postLargeBody(pier.url, "/api/github/webhook", { bytes: 2 * MiB, declareLength });
      // Read whole and then judged: no webhook secret is set, so its signature cannot match.
      expect(read.status).toBe(401);
      expect((JSON.parse(read.body) as { error: { code: string } }).error.code).toBe("bad_signature");
    }
    for (const declareLength of [true, false]) {
      const refused = await postLargeBody(pier.url, "/api/github/webhook", { bytes: 26 * MiB, declareLength });
      expect(refused.status).toBe(413);
      const error = (JSON.parse(refused.body) as { error: { code: string; message: string } }).error;
      expect(error.code).toBe("payload_too_large");
      expect(error.message).toContain("25 MiB");
    }
  }, 60_000);

  test("bodies within the limit still work, chunked or not", async () => {
    const chunked = (text: string, contentType: string) =>
      pier.fetch("/api/auth/login", {
        method: "POST",
        headers: { "content-type": contentType },
        body: new ReadableStream({
          start(controller) {
            controller.enqueue(new TextEncoder().encode(text));
            controller.close();
          },
        }),
      });
    expect((await chunked(JSON.stringify(ADMIN), "application/json")).status).toBe(200);
    const form = new URLSearchParams(ADMIN).toString();
    expect((await chunked(form, "application/x-www-form-urlencoded")).status).toBe(200);
    const broken = await chunked("{not json", "application/json");
    expect(broken.status).toBe(400);
    expect(((await broken.json()) as { error: { code: string } }).error.code).toBe("invalid_body");

    const nearLimit = await pier.fetch("/api/auth/login", json({ username: ADMIN.username, password: ADMIN.password, padding: "x".repeat(MiB - 200) }));
    expect(nearLimit.status).toBe(200);
  }, 60_000);
});
