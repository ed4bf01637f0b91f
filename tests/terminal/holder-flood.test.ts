/**
 * The terminal holders' socket flooded from a real Docker pod: a program in the pod (the
 * repository's code, say) opens 2,000 connections to its pod's socket; half announce a 1 MiB frame
 * before any hello, send all of it but the last byte and go idle, half say nothing. Pier must not keep a
 * buffer for each (its memory stays within 64 MiB of where it was), must close every one of them
 * within 10 s, and the person's own terminal, whose holder talks over that same socket, keeps
 * answering throughout.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { residentMiB } from "../support/large-body.ts";
import { type TestPier, closeForGood, setUpAdmin, startTestPier } from "../support/pier.ts";
import { type SessionJson, activeSession, addRepo } from "../support/sessions.ts";
import { TermClient } from "../support/term-client.ts";
import { dockerTestEnv } from "../support/workspace-image.ts";

const CONNECTIONS = 2000;
/** How long the attacker keeps its connections, then says what became of them. */
const HOLD_MS = 12_000;

/**
 * The attacker, run by the pod's own Bun: opens the connections at once, writes to every other one
 * an 'O' frame's header announcing 1 MiB and 1 MiB - 1 bytes of it (the rest say nothing at all),
 * and notes when Pier closes each.
 * Prints "attacking" once every connection is asked for, and what became of them at the end.
 */
const ATTACKER = `
const [path, count, holdMs] = [process.argv.at(-3), Number(process.argv.at(-2)), Number(process.argv.at(-1))];
const MiB = 1024 * 1024;
const frame = new Uint8Array(5 + MiB - 1).fill(97);
frame.set([0x4f, 0x00, 0x10, 0x00, 0x00]);
const started = Date.now();
const conns = [];
let refused = 0;
function pump(socket) {
  const c = socket.data;
  while (!c.quiet && c.sent < frame.length) {
    const wrote = socket.write(frame.subarray(c.sent));
    if (wrote <= 0) return;
    c.sent += wrote;
  }
}
const gone = (socket) => { if (!socket.data.closedAt) socket.data.closedAt = Date.now(); };
await Promise.all(Array.from({ length: count }, async (_, i) => {
  const c = { openedAt: Date.now(), closedAt: 0, sent: 0, quiet: i % 2 === 1 };
  try {
    await Bun.connect({ unix: path, data: c, socket: { open: pump, drain: pump, data() {}, end: gone, close: gone, error: gone } });
    conns.push(c);
  } catch {
    refused++;
  }
}));
console.log("attacking");
await Bun.sleep(Math.max(0, started + holdMs - Date.now()));
const ended = Date.now();
const closed = conns.filter((c) => c.closedAt);
console.log(JSON.stringify({
  started, ended, refused, opened: conns.length,
  stillOpen: conns.length - closed.length,
  slowestCloseMs: Math.max(0, ...closed.map((c) => c.closedAt - c.openedAt)),
}));
process.exit(0);
`;

type AttackReport = { started: number; ended: number; refused: number; opened: number; stillOpen: number; slowestCloseMs: number };

describe("the terminal holders' socket, flooded from a pod", () => {
  let pier: TestPier;
  let repoId: string;
  let session: SessionJson;
  let cookie: string;

  beforeAll(async () => {
    pier = await startTestPier({ PIER_RUNTIME: "docker", PIER_ALLOW_LOCAL_REPOS: "1", ...(await dockerTestEnv()) });
    cookie = await setUpAdmin(pier);
    repoId = await addRepo(pier, cookie, `file://${makeRemoteRepo("holder-flood").path}`, "holder-flood");
    session = await activeSession(pier, cookie, { repoId });
  }, 300_000);

  afterAll(async () => {
    await pier.pier.pods.removeAll(repoId);
    await closeForGood(pier);
  }, 60_000);

  test(`${CONNECTIONS} idle connections, announcing 1 MiB frames before any hello or silent: memory stays within 64 MiB, all are closed within 10 s, and the terminal keeps answering`, async () => {
    const viewer = await TermClient.connect(pier.url, session.id, { cookie, origin: pier.url });
    await viewer.run("echo before-$((6*7))", /before-42/);
    // The holder's own connection is up, so the terminal's output crosses the socket under attack.
    const socket = `${pier.dataDir}/pods/${repoId}/${session.userId}/pty.sock`;

    Bun.gc(true);
    const before = residentMiB();
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, residentMiB())), 50);

    const attacker = await pier.pier.runtime.spawn(
      { id: session.podId!, image: "" },
      ["bun", "-e", ATTACKER, socket, String(CONNECTIONS), String(HOLD_MS)],
      { cwd: session.worktreePath },
    );
    let said = "";
    attacker.onOutput((chunk) => (said += new TextDecoder().decode(chunk)));
    let told = "";
    attacker.onErrorOutput((chunk) => (told += new TextDecoder().decode(chunk)));
    const deadline = Date.now() + 60_000;
    while (!said.includes("attacking") && Date.now() < deadline) await Bun.sleep(20);
    expect(said, told).toContain("attacking");

    // The person types in their terminal all through the attack, and sees each answer.
    const answered: Array<{ asked: number; seen: number }> = [];
    for (let i = 1; i <= 4; i++) {
      const asked = Date.now();
      await viewer.run(`echo during-${i}-$((6*7))`, new RegExp(`during-${i}-42`), 8_000);
      answered.push({ asked, seen: Date.now() });
      await Bun.sleep(1_500);
    }

    await attacker.exited;
    clearInterval(sampler);
    const report = JSON.parse(said.split("\n").find((line) => line.startsWith("{")) ?? "null") as AttackReport | null;
    expect(report, `${said}\n${told}`).not.toBeNull();
    Bun.gc(true);
    const after = residentMiB();
    console.log(
      `server RSS during ${CONNECTIONS} hostile connections: before ${before.toFixed(0)} MiB, peak ${peak.toFixed(0)} MiB (+${(peak - before).toFixed(0)}), after ${after.toFixed(0)} MiB; ` +
        `${report!.opened} opened, ${report!.refused} refused at connect, ${report!.stillOpen} still open after ${HOLD_MS / 1000} s, slowest close ${report!.slowestCloseMs} ms`,
    );

    expect(report!.opened + report!.refused).toBe(CONNECTIONS);
    expect(report!.stillOpen).toBe(0);
    expect(report!.slowestCloseMs).toBeLessThanOrEqual(10_000);
    expect(peak - before).toBeLessThan(64);
    for (const { asked, seen } of answered) {
      expect(asked).toBeGreaterThanOrEqual(report!.started);
      expect(seen).toBeLessThanOrEqual(report!.ended);
    }
    await viewer.run("echo after-$((6*7))", /after-42/);
    viewer.close();
  }, 180_000);
});
