import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Terminal } from "@xterm/headless";
import type { SessionTerminal } from "../../src/terminal/session-terminal.ts";
import { recordingPath } from "../../src/terminal/recording.ts";
import { tmuxCommand } from "../../src/terminal/tmux-session.ts";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { castOutput } from "../support/recording.ts";
import { type TestPier, closeForGood, setUpAdmin, startTestPier } from "../support/pier.ts";
import { type SessionJson, activeSession, addRepo } from "../support/sessions.ts";
import { TermClient } from "../support/term-client.ts";
import { contiguity, decode, feed, numbersIn, stripEscapes, visibleLines } from "../support/terminal-text.ts";

const SIZE = { cols: 100, rows: 30 };
/**
 * Anything of the holder's sync that could leak: the status query it writes to the pane for tmux
 * and tmux's answer, which the holder takes out of the pane's input before the shell reads it.
 */
const MARKER_TRACES = ["\x1b[5n", "\x1b[0n", "^[[0n"];

/**
 * A command printing `prefix1` … `prefixN`, one a line, in batches with a pause between them, so
 * that it is still running when a viewer joins, then `<prefix>-<N>-done` (typed as arithmetic, so
 * the command line's own echo never matches).
 */
function numberedFlood(prefix: string, batches: number, perBatch: number, pause = 0.05): { command: string; done: RegExp; last: number } {
  const last = batches * perBatch;
  return {
    command: `for i in $(seq 0 ${batches - 1}); do seq -f '${prefix}%.0f' $((i*${perBatch}+1)) $((i*${perBatch}+${perBatch})); sleep ${pause}; done; echo ${prefix}-$((${last}))-done`,
    done: new RegExp(`${prefix}-${last}-done\\r\\n[\\s\\S]*[$#] $`),
    last,
  };
}

/**
 * What a viewer saw, as lines: its first message (the snapshot, and whatever Pier bridged to
 * the live stream) is played into a real terminal, whose lines up to the cursor are taken as
 * they stand; the live bytes after it continue the cursor's line. This holds for output of short
 * lines, which is what the tests print.
 */
async function viewerLines(chunks: Uint8Array[]): Promise<{ snapshot: string[]; all: string[] }> {
  const terminal = new Terminal({ ...SIZE, scrollback: 60_000, allowProposedApi: true });
  await feed(terminal, chunks[0]!);
  const buffer = terminal.buffer.active;
  const cursorRow = buffer.baseY + buffer.cursorY;
  const before = Array.from({ length: cursorRow }, (_, row) => buffer.getLine(row)?.translateToString(true) ?? "");
  const partial = buffer.getLine(cursorRow)?.translateToString(true, 0, buffer.cursorX) ?? "";
  terminal.dispose();
  const live = stripEscapes(decode(chunks.slice(1))).split("\r\n");
  return { snapshot: [...before, partial], all: [...before, partial + live[0], ...live.slice(1)] };
}

/**
 * What the design must not give up, on a real tmux in a real pod (or on the host): every byte of
 * output in the recording once and in order, watched or not; a viewer joining mid-flood gets the
 * screen and then the rest with nothing lost or repeated; several viewers get the same bytes.
 * With the holder (pier-pty) carrying the output, and without it (no holder can be built, so tmux's
 * control mode carries it); and when the holder's connection to Pier breaks, it connects again. Nothing
 * of the holder's sync with tmux ever reaches a viewer, the recording or the shell.
 */
export function defineOutputTests(runtime: "docker" | "local", env: Record<string, string>) {
  defineOutputSuite(runtime, env, "holder");
  // A holder that does not run here is as good as none: the terminal uses tmux's control mode.
  defineOutputSuite(runtime, { ...env, PIER_PTY_BINARY: "/bin/false" }, "control");
}

function defineOutputSuite(runtime: "docker" | "local", env: Record<string, string>, mode: "holder" | "control") {
  describe(`terminal output on the ${runtime} runtime, ${mode === "holder" ? "through the holder" : "through tmux control mode"}`, () => {
    const dataDir = mkdtempSync(join(tmpdir(), `pier-${runtime}-output-`));
    const fullEnv = { PIER_RUNTIME: runtime, PIER_ALLOW_LOCAL_REPOS: "1", ...env };
    let pier: TestPier;
    let cookie: string;
    let repoId: string;
    let session: SessionJson;
    let host: SessionTerminal;
    const clients: TermClient[] = [];
    const connect = async () => {
      const client = await TermClient.connect(pier.url, session.id, { cookie, origin: pier.url }, SIZE);
      clients.push(client);
      return client;
    };
    const pod = () => ({ id: session.podId!, image: "" });
    const recorded = () => readFileSync(recordingPath(pier.dataDir, session.id), "utf8");
    /** The recording's output events, joined. */
    const recordedOutput = () => castOutput(recorded());
    const waitForRecording = async (pattern: RegExp, timeoutMs = 30_000) => {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(recordedOutput())) {
        if (Date.now() > deadline) throw new Error(`the recording never showed ${pattern}`);
        await Bun.sleep(100);
      }
    };
    const expectNoMarker = (text: string) => {
      for (const trace of MARKER_TRACES) expect(text.includes(trace)).toBe(false);
    };

    beforeAll(async () => {
      pier = await startTestPier(fullEnv, dataDir);
      cookie = await setUpAdmin(pier);
      repoId = await addRepo(pier, cookie, `file://${makeRemoteRepo("output").path}`, "output");
      session = await activeSession(pier, cookie, { repoId });
      host = await pier.pier.hosts.terminal(pier.pier.sessions.get(session.id));
      expect((host as unknown as { holder: unknown }).holder !== null).toBe(mode === "holder");
    }, 300_000);

    afterAll(async () => {
      for (const client of clients) client.close();
      await pier.pier.pods.removeAll(repoId);
      await closeForGood(pier);
      rmSync(dataDir, { recursive: true, force: true });
    }, 60_000);

    test("every byte lands in the recording once and in order, watched by nobody and then by two viewers", async () => {
      const flood = numberedFlood("r", 40, 5000);
      const typed = await pier.pier.runtime.exec(
        pod(),
        [...tmuxCommand(pier.pier.terminals.socketFor(session.id)), "send-keys", "-t", `pier-${session.id}`, flood.command, "Enter"],
        { cwd: session.worktreePath },
      );
      expect(typed.exitCode).toBe(0);
      // Part of it with nobody watching, then two viewers join while it runs.
      await waitForRecording(/\r\nr20000\r\n/);
      const [a, b] = [await connect(), await connect()];
      expect(recordedOutput()).not.toMatch(/r-200000-done/);
      await Promise.all([a.waitFor(flood.done, 60_000), b.waitFor(flood.done, 60_000)]);
      await waitForRecording(/r-200000-done/);

      const output = recordedOutput();
      expect(contiguity(numbersIn(output.split("\r\n"), "r"), 1, flood.last)).toBe("ok");
      expectNoMarker(recorded());
      expectNoMarker(output);
      for (const viewer of [a, b]) expectNoMarker(viewer.text);
      a.close();
      b.close();
    }, 120_000);

    const joinMidFlood = (prefix: string) => async () => {
      const first = await connect();
      // Small batches close together: output flows all through the time it takes the viewer to join.
      const flood = numberedFlood(prefix, 1000, 100, 0.002);
      first.input(`${flood.command}\r`);
      await first.waitFor(new RegExp(`\\r\\n${prefix}5000\\r\\n`), 30_000);
      const joiner = await connect();
      await Promise.all([first.waitFor(flood.done, 60_000), joiner.waitFor(flood.done, 60_000)]);

      // One snapshot, taken while the command ran; then the rest of the numbers, each once, in order.
      expect(joiner.chunks.filter((chunk) => chunk[0] === 0x1b && chunk[1] === 0x63).length).toBe(1);
      expect(decode([joiner.chunks[0]!]).startsWith("\x1bc")).toBe(true);
      const { snapshot, all } = await viewerLines(joiner.chunks);
      const inSnapshot = numbersIn(snapshot, prefix);
      expect(inSnapshot.length).toBeGreaterThan(0);
      expect(inSnapshot.at(-1)!).toBeLessThan(flood.last);
      const seen = numbersIn(all, prefix);
      expect(contiguity(seen, seen[0]!, flood.last)).toBe("ok");
      expect(seen.length).toBeGreaterThan(flood.last - inSnapshot.at(-1)!);

      // Its screen at the end shows the last number, the done line and a prompt under them.
      const terminal = new Terminal({ ...SIZE, scrollback: 100, allowProposedApi: true });
      await feed(terminal, Buffer.concat(joiner.chunks));
      const screen = visibleLines(terminal).filter((line) => line.trim() !== "");
      terminal.dispose();
      const done = screen.indexOf(`${prefix}-${flood.last}-done`);
      expect(screen[done - 1]).toBe(`${prefix}${flood.last}`);
      // The prompt may wrap (a long worktree path): what follows the done line ends with it.
      expect(screen.slice(done + 1).join("").trimEnd()).toMatch(/[$#]$/);

      expectNoMarker(first.text);
      expectNoMarker(joiner.text);
      first.close();
      joiner.close();
    };

    const identicalViewers = (prefix: string) => async () => {
      const viewers = [await connect(), await connect(), await connect()];
      const flood = numberedFlood(prefix, 4, 5000);
      viewers[1]!.input(`printf '\\033[31m%s\\033[0m\\n' colour-$((5*5)); ${flood.command}\r`);
      await Promise.all(viewers.map((viewer) => viewer.waitFor(flood.done, 60_000)));
      // Let anything still on its way arrive, then compare what each got after its snapshot.
      await Bun.sleep(300);
      const live = viewers.map((viewer) => Buffer.concat(viewer.chunks.slice(1)));
      expect(decode([live[0]!])).toContain("\x1b[31mcolour-25\x1b[0m");
      expect(contiguity(numbersIn(decode([live[0]!]).split("\r\n"), prefix), 1, flood.last)).toBe("ok");
      expect(live[1]!.equals(live[0]!)).toBe(true);
      expect(live[2]!.equals(live[0]!)).toBe(true);
      for (const viewer of viewers) {
        expectNoMarker(viewer.text);
        viewer.close();
      }
    };

    test("a viewer joining mid-flood gets the screen, then every line after it once, and ends on the prompt", joinMidFlood("j"), 120_000);

    test("several viewers at once get identical live output", identicalViewers("v"), 60_000);

    test("after a long flood of plain lines (most of which tmux never has to parse), a new viewer's screen and history are its last lines", async () => {
      const first = await connect();
      // A colour change first, then 3 MB of plain lines: the holder gives tmux only the lines a snapshot can show.
      first.input("printf '\\033[32m'; seq -f 'p%.0f' 1 400000; printf '\\033[0m'; echo p-$((4000*100))-done\r");
      await first.waitFor(/p-400000-done\r\n[\s\S]*[$#] $/, 60_000);
      const joiner = await connect();
      const { snapshot } = await viewerLines(joiner.chunks.slice(0, 1));
      const numbers = numbersIn(snapshot, "p");
      // The history a snapshot gives (3000 lines) ends at the flood's last line, with nothing missing.
      expect(numbers.length).toBeGreaterThanOrEqual(2900);
      expect(contiguity(numbers, numbers[0]!, 400000)).toBe("ok");
      expect(snapshot.join("\n")).toContain("p-400000-done");
      // The colour set before the flood was still in force for its lines.
      expect(decode([joiner.chunks[0]!])).toMatch(/^\x1bc\x1b\[32mp\d+/);
      await joiner.run("echo after-$((6*7))", /after-42/);
      first.close();
      joiner.close();
    }, 120_000);

    if (mode === "holder") {
      test("when the holder's connection to Pier breaks, the holder connects again and nothing the shell wrote meanwhile is lost", async () => {
        const viewer = await connect();
        await viewer.run("echo ready-$((3*4))", /ready-12/);
        const internals = host as unknown as { holder: { close(): void } | null };
        const before = internals.holder;
        expect(before).not.toBeNull();
        // Pier's end of the connection goes; the holder in the pod notices and keeps the output for the next one.
        before!.close();
        // While Pier is without its stream, the shell writes on; the holder keeps it for Pier.
        const typed = await pier.pier.runtime.exec(
          pod(),
          [...tmuxCommand(pier.pier.terminals.socketFor(session.id)), "send-keys", "-t", `pier-${session.id}`, "seq -f 'gap%.0f' 1 2000; echo gap-$((40*50))-done", "Enter"],
          { cwd: session.worktreePath },
        );
        expect(typed.exitCode).toBe(0);
        const deadline = Date.now() + 15_000;
        while (internals.holder === null || internals.holder === before) {
          if (Date.now() > deadline) throw new Error("the holder never connected again");
          await Bun.sleep(50);
        }
        await viewer.waitFor(/gap-2000-done/);
        await waitForRecording(/gap-2000-done/);
        expect(contiguity(numbersIn(recordedOutput().split("\r\n"), "gap"), 1, 2000)).toBe("ok");
        const late = await connect();
        expect(late.text).toContain("gap-2000-done");
        await late.run("echo still-$((6*6))", /still-36/);
        await viewer.waitFor(/still-36/);
        expectNoMarker(recorded());
        expectNoMarker(viewer.text);
        viewer.close();
        late.close();
      }, 60_000);

      test("what the shell writes while Pier is down reaches the recording once Pier is back, once and in order", async () => {
        const typed = await pier.pier.runtime.exec(
          pod(),
          [...tmuxCommand(pier.pier.terminals.socketFor(session.id)), "send-keys", "-t", `pier-${session.id}`, "sleep 1; seq -f 'down%.0f' 1 3000; echo down-$((30*100))-done", "Enter"],
          { cwd: session.worktreePath },
        );
        expect(typed.exitCode).toBe(0);
        await pier.close();
        await Bun.sleep(2000);
        pier = await startTestPier(fullEnv, dataDir);
        host = await pier.pier.hosts.terminal(pier.pier.sessions.get(session.id));
        await waitForRecording(/down-3000-done/);
        expect(contiguity(numbersIn(recordedOutput().split("\r\n"), "down"), 1, 3000)).toBe("ok");
        const viewer = await connect();
        // The screen shows the end of it (the shell may redraw its prompt over the last line or two as the viewer's size applies).
        expect(viewer.text).toContain("down2995");
        await viewer.run("echo back-$((5*5))", /back-25/);
        viewer.close();
      }, 60_000);

      test("a restart in the middle of a flood leaves every line of it in the recording, once and in order", async () => {
        const viewer = await connect();
        // About 4 MB: less than the holder keeps for the next Pier, far more than a socket holds.
        viewer.input("seq -f 'mid%.0f' 1 400000; echo mid-$((4000*100))-done\r");
        await viewer.waitFor(/\r\nmid20000\r\n/, 30_000);
        viewer.close();
        await pier.close();
        pier = await startTestPier(fullEnv, dataDir);
        host = await pier.pier.hosts.terminal(pier.pier.sessions.get(session.id));
        await waitForRecording(/mid-400000-done/, 60_000);
        expect(contiguity(numbersIn(recordedOutput().split("\r\n"), "mid"), 1, 400000)).toBe("ok");
      }, 120_000);
    }
  });
}
