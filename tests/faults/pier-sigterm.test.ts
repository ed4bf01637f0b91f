/**
 * Fault: Pier gets SIGTERM (what `docker stop` sends) with a page open on a session whose agent
 * is in the middle of a turn and whose terminal runs a shell.
 * Held: the open terminal, chat and event stream are told Pier is restarting (sockets close with
 * 1012, the stream ends with a `restarting` event) and nothing new is taken; the turn is recorded
 * as far as it got and closed by a `turn_end` with `interrupted: true`; the database is closed
 * cleanly (no write-ahead log left, integrity ok); the process exits 0 within 10 s; and the shell
 * is still there, with its environment, when Pier comes back.
 */
import { Database } from "bun:sqlite";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ChatClient } from "../support/chat-client.ts";
import { startFakeAnthropic } from "../support/fake-anthropic.ts";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { json, setUpAdmin } from "../support/pier.ts";
import { type PierProcess, freePort, startPierProcess, stopForGood } from "../support/pier-process.ts";
import { activeSession, addRepo } from "../support/sessions.ts";
import { TermClient } from "../support/term-client.ts";

const API_KEY = "sk-ant-sigterm-test-0000000000000000";
const MODEL = "claude-sonnet-4-6";
const LONG_TEXT = "A slow answer, streamed one small piece at a time so that Pier stops in the middle of it. ".repeat(4);

describe("SIGTERM", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "pier-sigterm-"));
  let fake: Awaited<ReturnType<typeof startFakeAnthropic>>;
  let env: Record<string, string>;
  let port: number;
  let pier: PierProcess;
  let cookie: string;

  beforeAll(async () => {
    fake = await startFakeAnthropic({ apiKey: API_KEY });
    port = await freePort();
    env = { ANTHROPIC_BASE_URL: fake.url, ANTHROPIC_API_KEY: API_KEY, PIER_ALLOW_LOCAL_REPOS: "1" };
    pier = await startPierProcess(dataDir, port, env);
    cookie = await setUpAdmin(pier);
  }, 60_000);

  afterAll(async () => {
    if (pier) await stopForGood(pier);
    await fake.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  test("pages are told, the turn is closed as interrupted, the database closed, exit 0 within 10 s; the shell runs on", async () => {
    const repoId = await addRepo(pier, cookie, `file://${makeRemoteRepo("sigterm").path}`, "sigterm");
    const session = await activeSession(pier, cookie, { repoId, model: MODEL });
    const headers = { cookie, origin: pier.url };
    const term = await TermClient.connect(pier.url, session.id, headers);
    await term.run("export PIER_KEPT=kept-$((40+2))", /\$ $|# $/);
    const events = await pier.fetch(`/api/sessions/${session.id}/events`, { headers: { cookie } });
    const eventText = new Response(events.body).text();

    fake.script({ text: LONG_TEXT, chunkDelayMs: 150, usage: { input_tokens: 700, output_tokens: 70 } });
    const chat = await ChatClient.connect(pier.url, session.id, headers);
    chat.send("answer slowly");
    for (;;) {
      if (chat.events.filter((e) => e.type === "text_delta").length >= 4) break;
      await Bun.sleep(20);
    }

    // Broken: SIGTERM, as docker stop sends it.
    const sent = performance.now();
    pier.process.kill("SIGTERM");
    const chatClosed = await chat.closed;
    const termClosed = await term.closed;
    const code = await pier.process.exited;
    const tookMs = performance.now() - sent;
    expect(code).toBe(0);
    expect(tookMs).toBeLessThan(10_000);
    expect(chatClosed).toBe(1012);
    expect(chat.events.at(-1)).toMatchObject({ type: "restarting" });
    expect(termClosed.code).toBe(1012);
    expect(term.controls.at(-1)).toMatchObject({ type: "restarting" });
    expect(await eventText).toContain("event: restarting");
    expect(await fetch(`${pier.url}/healthz`).then(() => "answered", () => "refused")).toBe("refused");

    // The database was closed cleanly, the turn recorded as far as it got.
    expect(existsSync(join(dataDir, "pier.db-wal"))).toBe(false);
    const db = new Database(join(dataDir, "pier.db"), { readonly: true });
    expect(db.query("PRAGMA integrity_check").get()).toEqual({ integrity_check: "ok" });
    expect(db.query("SELECT count(*) AS n FROM open_turns").get()).toEqual({ n: 0 });
    const items = db.query("SELECT data FROM chat_items WHERE session_id = ? ORDER BY id").all(session.id).map((row: any) => JSON.parse(row.data));
    db.close();
    expect(items.map((item) => item.kind)).toEqual(["user", "assistant", "turn_end"]);
    const seen = chat.events.filter((e) => e.type === "text_delta").map((e) => e.text).join("");
    expect(items[1].text).toBe(seen);
    expect(LONG_TEXT.startsWith(items[1].text)).toBe(true);
    expect(items[2].interrupted).toBe(true);

    // Back again: the same shell, with what was set in it before the stop.
    pier = await startPierProcess(dataDir, port, env);
    const again = await TermClient.connect(pier.url, session.id, headers);
    await again.run("echo value=$PIER_KEPT", /value=kept-42\r\n/);
    again.close();
    await pier.fetch(`/api/sessions/${session.id}/end`, json({}, { cookie }));
  }, 80_000);
});
