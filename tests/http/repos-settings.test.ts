import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, closeForGood, json, setUpAdmin, startTestPier } from "../support/pier.ts";

type ApiError = { error: { code: string; message: string; field?: string } };

describe("repositories over HTTP", () => {
  let pier: TestPier;
  let cookie: string;
  const localRepo = mkdtempSync(join(tmpdir(), "pier-local-repo-"));

  beforeAll(async () => {
    pier = await startTestPier();
    cookie = await setUpAdmin(pier);
  }, 60_000);
  afterAll(() => closeForGood(pier));

  const post = (body: unknown) => pier.fetch("/api/repos", json(body, { cookie }));
  const count = async () => ((await (await pier.fetch("/api/repos", { headers: { cookie } })).json()) as unknown[]).length;

  test("adds a repo with defaults and shows it in the list and detail", async () => {
    const res = await post({ url: "https://github.com/acme/widgets.git" });
    expect(res.status).toBe(201);
    const repo = (await res.json()) as Record<string, unknown>;
    expect(repo).toMatchObject({ name: "widgets", url: "https://github.com/acme/widgets.git", defaultBranch: "main", image: null });
    const detail = await pier.fetch(`/api/repos/${repo.id}`, { headers: { cookie } });
    expect(await detail.json()).toMatchObject({ id: repo.id, name: "widgets", pod: null });
    const list = (await (await pier.fetch("/api/repos", { headers: { cookie } })).json()) as Array<{ id: string }>;
    expect(list.map((r) => r.id)).toEqual([repo.id as string]);
  });

  test("takes name, default branch and image", async () => {
    const res = await post({ url: "git@github.com:acme/gadgets.git", name: "gadgets-fork", defaultBranch: "develop", image: "ghcr.io/acme/dev:1.2" });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ name: "gadgets-fork", defaultBranch: "develop", image: "ghcr.io/acme/dev:1.2" });
  });

  const badUrls: Array<[string, string]> = [
    ["ext::sh -c touch% /tmp/pwned", "ext"],
    ["--upload-pack=x", "upload-pack"],
    ["https://github.com/acme/ widgets.git", "whitespace"],
    ["https://github.com/acme/widgets.git\n", "newline"],
    [`file://${localRepo}`, "file:// without PIER_ALLOW_LOCAL_REPOS"],
    [localRepo, "a local path without PIER_ALLOW_LOCAL_REPOS"],
  ];
  for (const [url, what] of badUrls) {
    test(`400 naming the url field for ${what}`, async () => {
      const before = await count();
      const res = await post({ url });
      expect(res.status).toBe(400);
      const { error } = (await res.json()) as ApiError;
      expect(error.code).toBe("invalid_url");
      expect(error.field).toBe("url");
      expect(error.message).toMatch(/^URL|Local repositories|Remote-helper/);
      expect(await count()).toBe(before);
    });
  }

  test("other fields are validated and named too, and nothing is written", async () => {
    const before = await count();
    const cases: Array<[Record<string, unknown>, string]> = [
      [{}, "url"],
      [{ url: 42 }, "url"],
      [{ url: "https://github.com/acme/x.git", name: "bad name!" }, "name"],
      [{ url: "https://github.com/acme/x.git", defaultBranch: "-x" }, "defaultBranch"],
      [{ url: "https://github.com/acme/x.git", defaultBranch: "a..b" }, "defaultBranch"],
      [{ url: "https://github.com/acme/x.git", image: "Not An Image" }, "image"],
    ];
    for (const [body, field] of cases) {
      const res = await post(body);
      expect(res.status).toBe(400);
      expect(((await res.json()) as ApiError).error.field).toBe(field);
    }
    const dup = await post({ url: "https://github.com/other/widgets.git" });
    expect(dup.status).toBe(409);
    expect(((await dup.json()) as ApiError).error.code).toBe("name_taken");
    expect(await count()).toBe(before);
  });

  test("a repo's runs at once: PATCH and the settings page take 1 to 64 or empty (the instance's limit only), and refuse anything else", async () => {
    const { id, maxConcurrentRuns } = (await (await post({ url: "https://github.com/acme/limited.git" })).json()) as { id: string; maxConcurrentRuns: number | null };
    expect(maxConcurrentRuns).toBeNull();
    const patch = (body: unknown) => pier.fetch(`/api/repos/${id}`, { ...json(body, { cookie }), method: "PATCH" });
    expect(await (await patch({ maxConcurrentRuns: 3 })).json()).toMatchObject({ maxConcurrentRuns: 3 });
    for (const bad of [0, 65, 1.5, "two", true]) {
      const res = await patch({ maxConcurrentRuns: bad });
      expect(res.status).toBe(400);
      expect(((await res.json()) as ApiError).error).toMatchObject({ code: "invalid_max_concurrent_runs", field: "maxConcurrentRuns", message: expect.stringContaining("from 1 to 64") });
    }
    expect(await (await pier.fetch(`/api/repos/${id}`, { headers: { cookie } })).json()).toMatchObject({ maxConcurrentRuns: 3 });

    const form = (body: string) => pier.fetch(`/repos/${id}/settings`, { method: "POST", headers: { cookie, "content-type": "application/x-www-form-urlencoded" }, body });
    const page = await (await pier.fetch(`/repos/${id}`, { headers: { cookie } })).text();
    expect(page).toMatch(/name="maxConcurrentRuns"[^>]*value="3"/);
    const refused = await form("maxConcurrentRuns=100");
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain("Runs at once must be a whole number from 1 to 64");
    expect((await form("maxConcurrentRuns=5")).status).toBe(200);
    expect(await (await pier.fetch(`/api/repos/${id}`, { headers: { cookie } })).json()).toMatchObject({ maxConcurrentRuns: 5 });
    expect(await (await patch({ maxConcurrentRuns: "" })).json()).toMatchObject({ maxConcurrentRuns: null });
  });

  test("a repo's setup and cleanup scripts: PATCH and GET round trip them (CRLF made LF, blank none), the settings page edits them, and a NUL or an over-long one is a 400 naming it that changes nothing", async () => {
    const { id } = (await (await post({ url: "https://github.com/acme/scripted.git" })).json()) as { id: string };
    const patch = (body: unknown) => pier.fetch(`/api/repos/${id}`, { ...json(body, { cookie }), method: "PATCH" });
    const get = async () => (await (await pier.fetch(`/api/repos/${id}`, { headers: { cookie } })).json()) as Record<string, unknown>;
    expect(await get()).toMatchObject({ setupScript: null, cleanupScript: null });
    expect(await (await patch({ setupScript: "npm ci\r\nnpm run build\r\n", cleanupScript: "rm -rf tmp" })).json()).toMatchObject({ setupScript: "npm ci\nnpm run build\n", cleanupScript: "rm -rf tmp" });
    expect(await get()).toMatchObject({ setupScript: "npm ci\nnpm run build\n", cleanupScript: "rm -rf tmp" });

    for (const [body, field, says] of [
      [{ setupScript: "npm ci\0rm -rf /" }, "setupScript", "Setup script must be"],
      [{ cleanupScript: "x".repeat(10_001) }, "cleanupScript", "Cleanup script must be at most 10000 characters"],
      [{ setupScript: "echo fine", cleanupScript: "echo \0" }, "cleanupScript", "Cleanup script must be"],
    ] as const) {
      const res = await patch(body);
      expect(res.status).toBe(400);
      expect(((await res.json()) as ApiError).error).toMatchObject({ field, message: expect.stringContaining(says) });
    }
    expect(await get()).toMatchObject({ setupScript: "npm ci\nnpm run build\n", cleanupScript: "rm -rf tmp" });

    const form = (fields: Record<string, string>) =>
      pier.fetch(`/repos/${id}/settings`, { method: "POST", headers: { cookie, "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ defaultBranch: "main", ...fields }).toString() });
    const page = await (await pier.fetch(`/repos/${id}`, { headers: { cookie } })).text();
    expect(page).toMatch(/<textarea[^>]*name="setupScript"[^>]*>npm ci\nnpm run build\n<\/textarea>/);
    expect(page).toMatch(/<textarea[^>]*name="cleanupScript"[^>]*>rm -rf tmp<\/textarea>/);
    // Refused, the form keeps what was typed (escaped) and nothing is saved.
    const refused = await form({ setupScript: "echo <b>kept</b>", cleanupScript: "y".repeat(10_001) });
    expect(refused.status).toBe(400);
    const echoed = await refused.text();
    expect(echoed).toContain("Cleanup script must be at most 10000 characters");
    expect(echoed).toContain("echo &lt;b&gt;kept&lt;/b&gt;</textarea>");
    expect(await get()).toMatchObject({ setupScript: "npm ci\nnpm run build\n", cleanupScript: "rm -rf tmp" });
    expect((await form({ setupScript: "make deps\r\n", cleanupScript: "  " })).status).toBe(200);
    expect(await get()).toMatchObject({ setupScript: "make deps\n", cleanupScript: null });
  });

  test("local repos are accepted when the server allows them", async () => {
    const open = await startTestPier({ PIER_ALLOW_LOCAL_REPOS: "1" });
    try {
      const c = await setUpAdmin(open);
      const res = await open.fetch("/api/repos", json({ url: `file://${localRepo}`, name: "local" }, { cookie: c }));
      expect(res.status).toBe(201);
    } finally {
      await open.close();
    }
  });

  test("delete answers 204, then 404", async () => {
    const { id } = (await (await post({ url: "https://github.com/acme/doomed.git" })).json()) as { id: string };
    expect((await pier.fetch(`/api/repos/${id}`, { method: "DELETE", headers: { cookie } })).status).toBe(204);
    expect((await pier.fetch(`/api/repos/${id}`, { headers: { cookie } })).status).toBe(404);
    expect((await pier.fetch(`/api/repos/${id}`, { method: "DELETE", headers: { cookie } })).status).toBe(404);
  });

  test("the repos page form works as a plain POST and through htmx", async () => {
    const form = (body: string, extra: Record<string, string> = {}) =>
      pier.fetch("/repos", { method: "POST", headers: { cookie, "content-type": "application/x-www-form-urlencoded", ...extra }, body });
    const plain = await form("url=--upload-pack%3Dx&name=");
    expect(plain.status).toBe(400);
    const page = await plain.text();
    expect(page).toContain('id="field-url-error"');
    expect(page).toContain("must not start with");
    expect(page).toContain('value="--upload-pack=x"');

    const ok = await form("url=https%3A%2F%2Fgithub.com%2Facme%2Fform.git&name=from-form");
    expect(ok.status).toBe(303);
    expect(ok.headers.get("location")).toMatch(/^\/repos\/[a-z2-7]{16}$/);
    const viaHtmx = await form("url=https%3A%2F%2Fgithub.com%2Facme%2Fhx.git", { "hx-request": "true" });
    expect(viaHtmx.status).toBe(200);
    expect(viaHtmx.headers.get("hx-redirect")).toMatch(/^\/repos\/[a-z2-7]{16}$/);
    const detail = await pier.fetch(ok.headers.get("location")!, { headers: { cookie } });
    expect(await detail.text()).toContain("from-form");
  });

  test("user-supplied text is escaped in pages, in text and in attributes", async () => {
    const evil = '"><script>alert(1)</script>';
    const created = await pier.fetch("/tokens", {
      method: "POST",
      headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ name: evil }).toString(),
    });
    expect(created.status).toBe(200);
    const page = await (await pier.fetch("/tokens", { headers: { cookie } })).text();
    expect(page).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(page).not.toContain("<script>alert");
    const badRepo = await pier.fetch("/repos", {
      method: "POST",
      headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ url: "https://github.com/acme/x.git", name: evil }).toString(),
    });
    expect(badRepo.status).toBe(400);
    const echoed = await badRepo.text();
    expect(echoed).toContain('value="&#34;><script>');
    expect(echoed).not.toContain('value=""><script>');
  });
});

describe("settings", () => {
  let pier: TestPier;
  let cookie: string;
  const ANTHROPIC = "sk-ant-api03-ZZtopSecretValue0123456789";
  const GITHUB = "ghp_SuperSecretGithubToken987654321";

  beforeAll(async () => {
    pier = await startTestPier();
    cookie = await setUpAdmin(pier);
  }, 60_000);
  afterAll(() => closeForGood(pier));

  test("secrets are write-only: answers are masked", async () => {
    const res = await pier.fetch("/api/settings", { ...json({ anthropicApiKey: ANTHROPIC, githubToken: GITHUB, defaultModel: "claude-opus-4-1" }, { cookie }), method: "PUT" });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).not.toContain(ANTHROPIC);
    expect(text).not.toContain(GITHUB);
    const view = JSON.parse(text);
    expect(view.anthropicApiKey).toEqual({ set: true, mask: "••••••••6789", source: "settings" });
    expect(view.defaultModel).toBe("claude-opus-4-1");
    const again = await (await pier.fetch("/api/settings", { headers: { cookie } })).text();
    expect(again).not.toContain(ANTHROPIC);
    const page = await (await pier.fetch("/settings", { headers: { cookie } })).text();
    expect(page).not.toContain(ANTHROPIC);
    expect(page).not.toContain(GITHUB);
    expect(page).toContain("••••••••6789");
  });

  test("secret values never appear in the SQLite files' bytes", () => {
    pier.pier.db.$client.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    const files = readdirSync(pier.dataDir).filter((f) => f.startsWith("pier.db"));
    expect(files).toContain("pier.db");
    for (const file of files) {
      const bytes = readFileSync(join(pier.dataDir, file));
      for (const secret of [ANTHROPIC, GITHUB, "ZZtopSecretValue", "SuperSecretGithubToken"]) {
        expect(bytes.includes(Buffer.from(secret))).toBe(false);
      }
    }
  });

  test("the server can still read the sealed secrets", async () => {
    expect(await pier.pier.settings.secret("anthropicApiKey")).toBe(ANTHROPIC);
  });

  test("bad values are 400 with the field named, and nothing changes", async () => {
    const res = await pier.fetch("/api/settings", { ...json({ githubToken: "has space", defaultModel: "claude-haiku-4-5" }, { cookie }), method: "PUT" });
    expect(res.status).toBe(400);
    const { error } = (await res.json()) as ApiError;
    expect(error.field).toBe("githubToken");
    expect(error.message).toContain("GitHub token");
    const view = (await (await pier.fetch("/api/settings", { headers: { cookie } })).json()) as { defaultModel: string };
    expect(view.defaultModel).toBe("claude-opus-4-1");
  });

  test("an empty secret clears it; the environment value then shows as the source", async () => {
    const withEnv = await startTestPier({ ANTHROPIC_API_KEY: "sk-from-env-0000000000abcd" });
    try {
      const c = await setUpAdmin(withEnv);
      const put = (body: unknown) => withEnv.fetch("/api/settings", { ...json(body, { cookie: c }), method: "PUT" });
      expect(((await (await put({})).json()) as { anthropicApiKey: unknown }).anthropicApiKey).toEqual({ set: true, mask: "••••••••abcd", source: "environment" });
      await put({ anthropicApiKey: "sk-saved-1111111111111wxyz" });
      expect(await withEnv.pier.settings.secret("anthropicApiKey")).toBe("sk-saved-1111111111111wxyz");
      const cleared = (await (await put({ anthropicApiKey: "" })).json()) as { anthropicApiKey: { source: string } };
      expect(cleared.anthropicApiKey.source).toBe("environment");
    } finally {
      await withEnv.close();
    }
  });

  test("the settings page keeps a blank secret and clears on the checkbox", async () => {
    const form = (body: Record<string, string>) =>
      pier.fetch("/settings", { method: "POST", headers: { cookie, "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(body).toString() });
    const kept = await form({ anthropicApiKey: "", githubToken: "", defaultModel: "claude-sonnet-4-5" });
    expect(kept.status).toBe(200);
    expect(await kept.text()).toContain("Settings saved.");
    expect(await pier.pier.settings.secret("anthropicApiKey")).toBe(ANTHROPIC);
    await form({ anthropicApiKey: "", clear_githubToken: "1", githubToken: "", defaultModel: "claude-sonnet-4-5" });
    expect(await pier.pier.settings.secret("githubToken")).toBeNull();
  });
});

describe("pod settings", () => {
  test("limits are validated, saved, and used for new pods", async () => {
    const pier = await startTestPier();
    try {
      const cookie = await setUpAdmin(pier);
      const put = (body: unknown) => pier.fetch("/api/settings", { ...json(body, { cookie }), method: "PUT" });
      const defaults = (await (await pier.fetch("/api/settings", { headers: { cookie } })).json()) as Record<string, unknown>;
      expect(defaults).toMatchObject({ podMemoryMb: 4096, podCpus: 2, podPidsLimit: 1024, podIdleMinutes: 30, podNoNewPrivileges: false });
      for (const [field, value] of [["podMemoryMb", 12], ["podCpus", "many"], ["podPidsLimit", 1.5], ["podIdleMinutes", 0], ["podNoNewPrivileges", "maybe"]] as const) {
        const res = await put({ [field]: value });
        expect(`${field} ${res.status}`).toBe(`${field} 400`);
        expect(((await res.json()) as ApiError).error.field).toBe(field);
      }
      const saved = (await (await put({ podMemoryMb: 2048, podCpus: 1.5, podIdleMinutes: 10, podNoNewPrivileges: true })).json()) as Record<string, unknown>;
      expect(saved).toMatchObject({ podMemoryMb: 2048, podCpus: 1.5, podIdleMinutes: 10, podNoNewPrivileges: true });
      expect(pier.pier.settings.plain()).toMatchObject({ podMemoryMb: 2048, podCpus: 1.5, podPidsLimit: 1024 });

      const form = await pier.fetch("/settings", {
        method: "POST",
        headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ defaultModel: "claude-sonnet-4-5", podMemoryMb: "abc", podCpus: "2", podPidsLimit: "1024", podIdleMinutes: "10", podNoNewPrivileges: "false" }).toString(),
      });
      expect(form.status).toBe(400);
      expect(await form.text()).toContain("Pod memory (MiB) must be a whole number");
      expect(pier.pier.settings.plain().podNoNewPrivileges).toBe(true);
    } finally {
      await pier.close();
    }
  });
});

describe("the price table", () => {
  test("is seeded, listed, and editable by an admin through the API and the settings page", async () => {
    const pier = await startTestPier({ PIER_ALLOW_LOCAL_REPOS: "1" });
    try {
      const cookie = await setUpAdmin(pier);
      const prices = (await (await pier.fetch("/api/prices", { headers: { cookie } })).json()) as Array<{ model: string }>;
      expect(prices.map((p) => p.model)).toContain("claude-sonnet-4-6");
      const bad = await pier.fetch("/api/prices", { ...json({ model: "x-model", inputPerMTok: -1, outputPerMTok: 1, cacheWritePerMTok: 1, cacheReadPerMTok: 1 }, { cookie }), method: "PUT" });
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as ApiError).error.field).toBe("inputPerMTok");
      const form = await pier.fetch("/settings/prices", {
        method: "POST",
        headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ model: "claude-test-9", inputPerMTok: "2", outputPerMTok: "8", cacheWritePerMTok: "2.5", cacheReadPerMTok: "0.2" }).toString(),
      });
      expect(form.status).toBe(200);
      const page = await form.text();
      expect(page).toContain("Prices saved.");
      expect(page).toContain("claude-test-9");
      await pier.fetch("/api/repos", json({ url: `file://${makeRemoteRepo("priced").path}` }, { cookie }));
      const newSession = await (await pier.fetch("/sessions/new", { headers: { cookie } })).text();
      expect(newSession).toContain('<option value="claude-test-9"');
    } finally {
      await pier.close();
    }
  });
});
