/**
 * The terminal soak: for a while, everything a session's terminal meets at once — random resizes
 * (also as a new viewer's very first message), two to four viewers joining and leaving, floods,
 * Ctrl+C in a flood, a chat engine working in the same pod (and started again), reconnects and a
 * server restart — and then the checks that nothing was lost, repeated or garbled:
 * - every command's lines reached every viewer that was live for the whole command, once and in order;
 * - `stty size` typed right after a viewer's resize shows that size;
 * - the recording holds every line of every command once, in order, including what the shell
 *   wrote while Pier was down;
 * - at the end, every viewer's screen (its bytes played into @xterm/headless) is tmux's own.
 *
 * Races pass most runs, so this runs for minutes while the terminal is being changed:
 * `PIER_SOAK_SECONDS=300 bun test tests/terminal/docker-soak.test.ts` (PIER_SOAK_SEED repeats a run).
 * The suite keeps a short one on each runtime.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Terminal } from "@xterm/headless";
import { recordingPath } from "../../src/terminal/recording.ts";
import { tmuxCommand } from "../../src/terminal/tmux-session.ts";
import { ChatClient } from "../support/chat-client.ts";
import { startFakeAnthropic } from "../support/fake-anthropic.ts";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, closeForGood, json, setUpAdmin, startTestPier } from "../support/pier.ts";
import { type SessionJson, activeSession, addRepo } from "../support/sessions.ts";
import { TermClient } from "../support/term-client.ts";
import { contiguity, feed, stripEscapes, visibleLines } from "../support/terminal-text.ts";

export interface SoakOptions {
  runtime: "docker" | "local";
  env: Record<string, string>;
  /** How long the random part runs (PIER_SOAK_SECONDS overrides it). */
  seconds: number;
  /** The chat engine that works beside the terminal; Claude Code needs a pod that reaches the fake model API. */
  engine: "pier" | "claude-code";
}

const API_KEY = "sk-ant-soak-0000000000000000";
const MODEL = "claude-sonnet-4-6";
const FINAL_SIZE = { cols: 97, rows: 29 };
/** Time a viewer gets to receive what the recording already has. */
const DELIVERY_MS = 1500;

type Size = { cols: number; rows: number };

/**
 * What a stream of terminal lines says of each command, read in one pass: the numbers of command
 * k's lines (`L<k>-<number>.`; a line cut short by Ctrl+C has no dot and is left out), and which
 * commands' END markers came. Read once per viewer, not once per command and viewer: a viewer can
 * hold tens of megabytes.
 */
function byCommand(lines: string[]): { numbers: (k: number) => number[]; ended: Set<number> } {
  const numbers = new Map<number, number[]>();
  const ended = new Set<number>();
  for (const line of lines) {
    const numberedLine = line.slice(line.lastIndexOf("\r") + 1).match(/^L(\d+)-(\d+)\.$/);
    if (numberedLine) {
      const k = Number(numberedLine[1]);
      const list = numbers.get(k) ?? [];
      if (list.length === 0) numbers.set(k, list);
      list.push(Number(numberedLine[2]));
    }
    const end = line.match(/END-(\d+)$/);
    if (end) ended.add(Number(end[1]));
  }
  return { numbers: (k) => numbers.get(k) ?? [], ended };
}

/** A small seeded generator (mulberry32), so a failing run can be repeated with its seed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One connection of a viewer: its client, when it went live (its first bytes), when it closed. */
interface Viewer {
  name: string;
  client: TermClient;
  size: Size | null;
  liveAt: number | null;
  closedAt: number | null;
  /** Chunk indexes at which it sent a resize, and the size, to replay its screen faithfully. */
  resizes: Array<{ atChunk: number; size: Size }>;
}

/** A command the soak ran: its number, how it was run, and when its end was in the recording. */
interface Command {
  k: number;
  kind: "lines" | "flood" | "interrupted" | "claude" | "while-down";
  lines: number | null;
  sentAt: number;
  endedAt: number;
}

export function defineSoak(options: SoakOptions) {
  const seconds = Number(process.env.PIER_SOAK_SECONDS ?? options.seconds);
  const seed = Number(process.env.PIER_SOAK_SEED ?? Math.floor(Math.random() * 2 ** 31));

  describe(`terminal soak on the ${options.runtime} runtime`, () => {
    const dataDir = mkdtempSync(join(tmpdir(), `pier-${options.runtime}-soak-`));
    let fake: Awaited<ReturnType<typeof startFakeAnthropic>>;
    let env: Record<string, string>;
    let pier: TestPier;
    let cookie: string;
    let repoId: string;
    let session: SessionJson;

    beforeAll(async () => {
      fake = await startFakeAnthropic({ apiKey: API_KEY });
      env = { PIER_RUNTIME: options.runtime, PIER_ALLOW_LOCAL_REPOS: "1", ...options.env, ANTHROPIC_BASE_URL: fake.url };
      pier = await startTestPier(env, dataDir);
      cookie = await setUpAdmin(pier);
      const saved = await pier.fetch("/api/settings", { ...json({ anthropicApiKey: API_KEY, recordingLimitMiB: 1024 }, { cookie }), method: "PUT" });
      expect(saved.status).toBe(200);
      repoId = await addRepo(pier, cookie, `file://${makeRemoteRepo(`soak-${options.runtime}`).path}`, "soak");
      session = await activeSession(pier, cookie, { repoId, engine: options.engine, model: MODEL });
    }, 600_000);

    afterAll(async () => {
      await pier.pier.pods.removeAll(repoId).catch(() => undefined);
      await closeForGood(pier);
      await fake.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }, 60_000);

    test(`${seconds} s of resizes, viewers, floods, Ctrl+C, chat turns, reconnects and a restart lose nothing (seed ${seed})`, async () => {
      const next = random(seed);
      const pick = <T,>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
      const headers = () => ({ cookie, origin: pier.url });
      const viewers: Viewer[] = [];
      const open = () => viewers.filter((v) => v.closedAt === null);
      const commands: Command[] = [];
      const failures: string[] = [];
      let viewerCount = 0;
      let k = 0;

      // The recording, read as it grows: its output events' text, whole.
      let recordedText = "";
      let recordedBytes = 0;
      let recordedPartial = "";
      const recorded = () => {
        const file = readFileSync(recordingPath(pier.dataDir, session.id));
        const fresh = recordedPartial + file.subarray(recordedBytes).toString("utf8");
        recordedBytes = file.length;
        const lines = fresh.split("\n");
        recordedPartial = lines.pop()!;
        for (const line of lines) {
          const event = JSON.parse(line) as unknown;
          if (Array.isArray(event) && event[1] === "o") recordedText += event[2] as string;
        }
        return recordedText;
      };
      const untilRecorded = async (marker: string, timeoutMs = 60_000) => {
        const deadline = Date.now() + timeoutMs;
        while (!recorded().includes(marker)) {
          if (Date.now() > deadline) throw new Error(`the recording never showed ${JSON.stringify(marker)}; it ends: ${JSON.stringify(recordedText.slice(-400))}`);
          await Bun.sleep(25);
        }
        return Date.now();
      };

      /** A new viewer: it resizes first (as a phone or xterm's fit addon does), later, or never. */
      const join = async () => {
        const client = new TermClient(`${pier.url}/api/sessions/${session.id}/terminal`, headers());
        const viewer: Viewer = { name: `v${++viewerCount}`, client, size: null, liveAt: null, closedAt: null, resizes: [] };
        viewers.push(viewer);
        await client.opened;
        const how = next();
        if (how < 0.6) resize(viewer, { cols: 60 + Math.floor(next() * 90), rows: 15 + Math.floor(next() * 30) });
        const deadline = Date.now() + 15_000;
        while (client.chunks.length === 0) {
          // The agitator may have let it go again before its snapshot came.
          if (viewer.closedAt !== null) return viewer;
          if (Date.now() > deadline) throw new Error(`${viewer.name} got no snapshot (it was told ${JSON.stringify(client.controls)})`);
          await Bun.sleep(5);
        }
        viewer.liveAt = Date.now();
        if (how >= 0.6 && how < 0.8) resize(viewer, { cols: 60 + Math.floor(next() * 90), rows: 15 + Math.floor(next() * 30) });
        return viewer;
      };
      const leave = (viewer: Viewer) => {
        viewer.closedAt = Date.now();
        viewer.client.close();
      };
      const resize = (viewer: Viewer, size: Size) => {
        viewer.size = size;
        viewer.resizes.push({ atChunk: viewer.client.chunks.length, size });
        viewer.client.resize(size.cols, size.rows);
      };
      const typist = () => pick(open().filter((v) => v.liveAt !== null));

      /** Joins, leaves and resizes going on while commands run (not while a size is checked, nor over a restart). */
      let agitating = true;
      let holdSizes = false;
      let agitatorIdle: Promise<void> = Promise.resolve();
      const agitator = (async () => {
        while (agitating) {
          await Bun.sleep(40 + next() * 260);
          if (!agitating || holdSizes) continue;
          const live = open();
          const roll = next();
          let done: () => void = () => {};
          agitatorIdle = new Promise((resolve) => (done = resolve));
          try {
            if (roll < 0.25 && live.length < 4) await join();
            else if (roll < 0.4 && live.filter((v) => v.liveAt !== null).length > 2) leave(pick(live.filter((v) => v.liveAt !== null)));
            else if (live.length > 0) resize(pick(live), { cols: 60 + Math.floor(next() * 90), rows: 15 + Math.floor(next() * 30) });
          } catch (error) {
            failures.push(`agitator: ${error instanceof Error ? error.message : String(error)}`);
          } finally {
            done();
          }
        }
      })();
      /** Stops the agitator's resizes and joins, once its action under way is over. */
      const holdStill = async () => {
        holdSizes = true;
        await agitatorIdle;
        // A resize it sent on another socket reaches the server in its own time.
        await Bun.sleep(100);
      };

      /** Runs one command to its end (its END marker in the recording). */
      const run = async (kind: Command["kind"]) => {
        const n = ++k;
        const lines = kind === "flood" ? 60_000 + Math.floor(next() * 140_000) : kind === "lines" ? 1 + Math.floor(next() * 200) : null;
        const viewer = typist();
        const sentAt = Date.now();
        if (kind === "interrupted") {
          viewer.client.input(`echo BEGIN-$((${n})); seq -f 'L${n}-%.0f.' 1 100000000\r`);
          await untilRecorded(`L${n}-1000.\r\n`);
          await Bun.sleep(50 + next() * 700);
          typist().client.input("\x03");
          await Bun.sleep(100);
          typist().client.input(`echo END-$((${n}))\r`);
        } else if (kind === "claude") {
          viewer.client.input(`echo BEGIN-$((${n})); claude --version; echo END-$((${n}))\r`);
        } else {
          viewer.client.input(`echo BEGIN-$((${n})); seq -f 'L${n}-%.0f.' 1 ${lines}; echo END-$((${n}))\r`);
        }
        const endedAt = await untilRecorded(`END-${n}\r\n`, 120_000);
        commands.push({ k: n, kind, lines, sentAt, endedAt });
      };

      /** A resize by one viewer, and `stty size` typed by it at once: the shell must have that size. */
      const checkSize = async () => {
        await holdStill();
        try {
          const viewer = typist();
          const size = { cols: 60 + Math.floor(next() * 90), rows: 15 + Math.floor(next() * 30) };
          const n = ++k;
          resize(viewer, size);
          viewer.client.input(`stty size | sed 's/^/SZ${n}=/'\r`);
          const deadline = Date.now() + 30_000;
          let shown: RegExpMatchArray | null = null;
          while (!(shown = recorded().match(new RegExp(`SZ${n}=(\\d+) (\\d+)\\r\\n`)))) {
            if (Date.now() > deadline) throw new Error(`stty size (check ${n}) never answered`);
            await Bun.sleep(25);
          }
          if (`${shown[2]}x${shown[1]}` !== `${size.cols}x${size.rows}`) failures.push(`stty size after ${viewer.name}'s resize to ${size.cols}x${size.rows} showed ${shown[2]}x${shown[1]}`);
        } finally {
          holdSizes = false;
        }
      };

      /** A chat turn beside the terminal, in the same worktree. */
      let turns = 0;
      const chatTurn = async () => {
        const n = ++turns;
        const chat = await ChatClient.connect(pier.url, session.id, headers());
        const file = `${session.worktreePath}/chat-${n}.txt`;
        if (options.engine === "claude-code") fake.script({ toolUse: { name: "Write", input: { file_path: file, content: `chat ${n}\n` } } }, { text: `wrote chat ${n}` });
        else fake.script({ toolUse: { name: "write_file", input: { path: `chat-${n}.txt`, content: `chat ${n}\n` } } }, { text: `wrote chat ${n}` });
        const events = await chat.turn(`write chat-${n}.txt`, 180_000);
        chat.close();
        const said = events.find((e) => e.type === "assistant_message")?.text;
        if (said !== `wrote chat ${n}`) failures.push(`chat turn ${n} ended with ${JSON.stringify(events.filter((e) => e.type !== "text_delta")).slice(0, 600)}`);
      };

      /** The server restarts with a command printing while it is down; the viewers come back after it. */
      const restart = async () => {
        await holdStill();
        const n = ++k;
        // Either the shell starts printing once Pier is down, or Pier stops in the middle of a
        // flood (about 4 MB: less than the holder keeps for the next Pier).
        const midFlood = next() < 0.5;
        const lines = midFlood ? 350_000 : 5000;
        const sentAt = Date.now();
        typist().client.input(`${midFlood ? "" : "sleep 1; "}echo BEGIN-$((${n})); seq -f 'L${n}-%.0f.' 1 ${lines}; echo END-$((${n}))\r`);
        if (midFlood) await untilRecorded(`L${n}-20000.\r\n`);
        else await Bun.sleep(100);
        const back = open().length;
        for (const viewer of open()) leave(viewer);
        await pier.close();
        await Bun.sleep(1500);
        pier = await startTestPier(env, dataDir);
        const endedAt = await untilRecorded(`END-${n}\r\n`, 60_000);
        commands.push({ k: n, kind: "while-down", lines, sentAt, endedAt });
        for (let i = 0; i < Math.max(2, back); i++) await join();
        holdSizes = false;
      };

      for (let i = 0; i < 2; i++) await join();
      const started = Date.now();
      let restarted = false;
      let chats = Promise.resolve();
      while (Date.now() - started < seconds * 1000) {
        const roll = next();
        if (!restarted && Date.now() - started > (seconds * 1000) / 2) {
          await chats;
          await restart();
          restarted = true;
        } else if (roll < 0.3) await run("lines");
        else if (roll < 0.45) await run("flood");
        else if (roll < 0.6) await run("interrupted");
        else if (roll < 0.8) await checkSize();
        else if (roll < 0.88 && options.engine === "claude-code") await run("claude");
        else chats = chats.then(chatTurn).catch((error) => void failures.push(`chat: ${error.message}`));
      }
      await chats;
      if (!restarted) await restart();
      agitating = false;
      await agitator;

      // The end: every viewer takes one size, and a last command fills the screen.
      while (open().length < 2) await join();
      for (const viewer of open()) {
        resize(viewer, FINAL_SIZE);
        await Bun.sleep(50);
      }
      await run("lines");
      const last = ++k;
      typist().client.input(`seq -f 'F${last}-%.0f' 1 ${FINAL_SIZE.rows * 2}; echo END-$((${last}))\r`);
      await untilRecorded(`END-${last}\r\n`);
      await Bun.sleep(DELIVERY_MS);

      const output = stripEscapes(recorded()).split("\r\n");
      const recordedCommands = byCommand(output);
      const seenBy = new Map<Viewer, ReturnType<typeof byCommand>>();
      for (const command of commands) {
        const numbers = recordedCommands.numbers(command.k);
        const to = command.lines ?? numbers.at(-1) ?? 0;
        const recordedOk = command.kind === "claude" ? (output.some((line) => /\d+\.\d+\.\d+ \(Claude Code\)/.test(line)) ? "ok" : "claude --version printed nothing") : contiguity(numbers, 1, to);
        if (recordedOk !== "ok") failures.push(`recording, command ${command.k} (${command.kind}): ${recordedOk}`);
        for (const viewer of viewers) {
          const liveThroughout = viewer.liveAt !== null && viewer.liveAt < command.sentAt && (viewer.closedAt === null || viewer.closedAt > command.endedAt + DELIVERY_MS);
          if (!liveThroughout) continue;
          const chunks = viewer.client.chunks.slice(1);
          // A viewer left behind (its socket full) is given a fresh screen: what it missed is by design.
          if (chunks.some((chunk) => chunk[0] === 0x1b && chunk[1] === 0x63)) continue;
          let seen = seenBy.get(viewer);
          if (!seen) seenBy.set(viewer, (seen = byCommand(stripEscapes(new TextDecoder().decode(Buffer.concat(chunks))).split("\r\n"))));
          const viewerOk = !seen.ended.has(command.k) ? `END-${command.k} never came` : command.kind === "claude" ? "ok" : contiguity(seen.numbers(command.k), 1, to);
          if (viewerOk !== "ok") failures.push(`${viewer.name}, command ${command.k} (${command.kind}, live from ${viewer.liveAt} to ${viewer.closedAt ?? "the end"}): ${viewerOk}`);
        }
      }

      const runtime = pier.pier.runtime;
      const pod = { id: pier.pier.sessions.get(session.id).podId ?? "local", image: "" };
      const captured = await runtime.exec(pod, [...tmuxCommand(pier.pier.terminals.socketFor(session.id)), "capture-pane", "-p", "-t", `pier-${session.id}`], { cwd: session.worktreePath });
      const tmuxScreen = captured.stdout.replace(/\n$/, "").split("\n").map((line) => line.trimEnd());
      for (const viewer of open()) {
        const terminal = new Terminal({ ...(viewer.resizes[0]?.atChunk === 0 ? viewer.resizes[0].size : { cols: 120, rows: 32 }), allowProposedApi: true, scrollback: 1000 });
        const chunks = viewer.client.chunks;
        // Its bytes are played as they came, each resize before the chunk it preceded; the chunks
        // between two resizes are written at once (xterm parses them in order either way), which
        // is many times quicker than waiting for each of a flood's many thousand chunks in turn.
        let from = 0;
        for (let i = 1; i <= chunks.length; i++) {
          const resizes = viewer.resizes.filter((r) => r.atChunk === i);
          if (resizes.length === 0 && i < chunks.length) continue;
          await feed(terminal, Buffer.concat(chunks.slice(from, i)));
          from = i;
          if (i < chunks.length) for (const { size } of resizes) terminal.resize(size.cols, size.rows);
        }
        const screen = visibleLines(terminal).map((line) => line.trimEnd());
        terminal.dispose();
        if (JSON.stringify(screen) !== JSON.stringify(tmuxScreen)) failures.push(`${viewer.name}'s screen is not tmux's:\n${screen.join("\n")}\n--- tmux ---\n${tmuxScreen.join("\n")}`);
      }
      for (const viewer of viewers) viewer.client.close();

      const summary = `${seconds} s, seed ${seed}: ${commands.length} commands (${commands.filter((c) => c.kind === "flood").length} floods, ${commands.filter((c) => c.kind === "interrupted").length} interrupted), ${viewerCount} viewer connections, ${turns} chat turns`;
      console.error(`[soak] ${options.runtime}: ${summary}`);
      expect(failures, summary).toEqual([]);
    }, (seconds + 600) * 1000);
  });
}
