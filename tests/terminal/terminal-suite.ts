import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { recordingPath } from "../../src/terminal/recording.ts";
import { tmuxCommand } from "../../src/terminal/tmux-session.ts";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { castOutput } from "../support/recording.ts";
import { type TestPier, closeForGood, json, setUpAdmin, startTestPier } from "../support/pier.ts";
import { type SessionJson, activeSession, addRepo } from "../support/sessions.ts";
import { TermClient, upgradeStatus } from "../support/term-client.ts";

/** The terminal's behaviour over its WebSocket, on a real tmux in a real pod (or on the host). */
export function defineTerminalTests(runtime: "docker" | "local", env: Record<string, string>) {
  describe(`session terminal on the ${runtime} runtime`, () => {
    const dataDir = mkdtempSync(join(tmpdir(), `pier-${runtime}-terminal-`));
    const fullEnv = { PIER_RUNTIME: runtime, PIER_ALLOW_LOCAL_REPOS: "1", ...env };
    let pier: TestPier;
    let cookie: string;
    let repoId: string;
    let session: SessionJson;
    const clients: TermClient[] = [];
    const connect = async (size?: { cols: number; rows: number }) => {
      const client = await TermClient.connect(pier.url, session.id, { cookie, origin: pier.url }, size);
      clients.push(client);
      return client;
    };

    beforeAll(async () => {
      pier = await startTestPier(fullEnv, dataDir);
      cookie = await setUpAdmin(pier);
      repoId = await addRepo(pier, cookie, `file://${makeRemoteRepo("term").path}`, "term");
      session = await activeSession(pier, cookie, { repoId });
    }, 300_000);

    afterAll(async () => {
      for (const client of clients) client.close();
      await pier.pier.pods.removeAll(repoId);
      await closeForGood(pier);
      rmSync(dataDir, { recursive: true, force: true });
    }, 60_000);

    test("a command's output comes back, in the session's worktree", async () => {
      const term = await connect();
      await term.run("echo pier-$((6*7)) && pwd", /pier-42\r\n(\S+)/);
      expect(term.text).toContain(session.worktreePath);
      term.close();
    }, 60_000);

    test("a resize reaches the shell before the keys typed after it (stty size, asked once)", async () => {
      const sttySize = async (term: TermClient) => {
        term.text = "";
        term.input("stty size\r");
        return (await term.waitFor(/(\d+ \d+)\r\n/))[1];
      };
      const term = await connect({ cols: 91, rows: 27 });
      expect(await sttySize(term)).toBe("27 91");
      // One after the other, each within tmux's own resize timer of the last: the keys must still
      // meet the size sent before them.
      for (const [cols, rows] of [[133, 41], [80, 24], [101, 33], [90, 25]] as const) {
        term.resize(cols, rows);
        expect(await sttySize(term)).toBe(`${rows} ${cols}`);
      }
      term.close();
    }, 60_000);

    test("a resize sent as a new socket's first message holds for the keys typed at once after it", async () => {
      for (const [cols, rows] of [[100, 30], [87, 23], [120, 40]] as const) {
        const term = new TermClient(`${pier.url}/api/sessions/${session.id}/terminal`, { cookie, origin: pier.url });
        clients.push(term);
        await term.opened;
        term.resize(cols, rows);
        term.input("stty size | sed 's/^/size=/'\r");
        expect((await term.waitFor(/size=(\d+ \d+)\r\n/))[1]).toBe(`${rows} ${cols}`);
        term.close();
      }
    }, 60_000);

    test("Ctrl+C ends a running command at once, even one flooding the screen", async () => {
      const term = await connect();
      term.input("sleep 100\r");
      await Bun.sleep(300);
      term.input("\x03");
      await term.run("echo after-$((1+1))", /after-2/, 5_000);
      term.input("yes flood\r");
      await term.waitFor(/flood\r\nflood/);
      term.input("\x03");
      await term.run("echo calm-$((2+2))", /calm-4/, 10_000);
      term.close();
    }, 60_000);

    test("a new connection sees what was on the screen before it connected", async () => {
      const first = await connect();
      await first.run("echo before-$((2*3))-marker", /before-6-marker/);
      first.close();
      const second = await connect();
      expect(second.text).toContain("before-6-marker");
      second.close();
    }, 60_000);

    test("two viewers both receive output, and both can type", async () => {
      const a = await connect();
      const b = await connect();
      a.input("echo from-a-$((3*3))\r");
      await Promise.all([a.waitFor(/from-a-9/), b.waitFor(/from-a-9/)]);
      b.input("echo from-b-$((4*4))\r");
      await Promise.all([a.waitFor(/from-b-16/), b.waitFor(/from-b-16/)]);
      a.close();
      b.close();
    }, 60_000);

    test("bad frames get an error message, not a crash, and the socket stays usable", async () => {
      const term = await connect();
      term.sendRaw("not json");
      term.sendRaw(JSON.stringify({ type: "resize", cols: 0, rows: 24 }));
      term.sendRaw(JSON.stringify({ type: "paste", data: "x" }));
      term.sendRaw(JSON.stringify({ type: "input", data: 42 }));
      await Bun.sleep(300);
      expect(term.controls.filter((c) => c.type === "error").map((c) => c.message)).toEqual([
        expect.stringContaining("must be JSON"),
        expect.stringContaining("cols and rows"),
        expect.stringContaining("Unknown message type"),
        expect.stringContaining("data as a string"),
      ]);
      await term.run("echo still-$((7*7))", /still-49/);
      term.close();
    }, 60_000);

    test("upgrades without auth, from another site, or for someone else's session are refused", async () => {
      const path = `/api/sessions/${session.id}/terminal`;
      expect(await upgradeStatus(pier.url, path, {})).toBe(401);
      expect(await upgradeStatus(pier.url, path, { cookie, origin: "http://evil.example" })).toBe(403);
      await pier.fetch("/api/users", json({ username: "mallory", password: "mallory password", role: "member" }, { cookie }));
      const login = await pier.fetch("/api/auth/login", json({ username: "mallory", password: "mallory password" }));
      const mallory = login.headers.getSetCookie()[0]!.split(";")[0]!;
      expect(await upgradeStatus(pier.url, path, { cookie: mallory })).toBe(404);
      expect(await upgradeStatus(pier.url, path, { cookie, origin: pier.url })).toBe(101);
    }, 60_000);

    test("output produced while nobody watches is recorded, and asciinema reads the recording", async () => {
      // The server starts the terminal when the session becomes active; wait for that, attach nothing.
      await pier.pier.hosts.terminal(pier.pier.sessions.get(session.id));
      const ran = await pier.pier.runtime.exec(
        { id: session.podId!, image: "" },
        [...tmuxCommand(pier.pier.terminals.socketFor(session.id)), "send-keys", "-t", `pier-${session.id}`, "echo unseen-$((5*5))", "Enter"],
        { cwd: session.worktreePath },
      );
      expect(ran.exitCode).toBe(0);
      const file = recordingPath(pier.dataDir, session.id);
      const deadline = Date.now() + 10_000;
      while (!readFileSync(file, "utf8").includes("unseen-25") && Date.now() < deadline) await Bun.sleep(50);
      const lines = readFileSync(file, "utf8").trim().split("\n");
      expect(JSON.parse(lines[0]!)).toMatchObject({ version: 2, width: expect.any(Number), height: expect.any(Number) });
      expect(lines.slice(1).every((line) => Array.isArray(JSON.parse(line)))).toBe(true);
      expect(lines.join("\n")).toContain("unseen-25");

      // asciinema opens /dev/tty, so it runs under script(1), which gives it one.
      const cat = Bun.spawnSync(["script", "-qec", `asciinema cat ${file}`, "/dev/null"], { stdin: "ignore" });
      expect(cat.exitCode).toBe(0);
      expect(cat.stdout.toString()).toContain("unseen-25");

      const served = await pier.fetch(`/api/sessions/${session.id}/recording`, { headers: { cookie } });
      expect(served.status).toBe(200);
      expect(served.headers.get("content-type")).toBe("application/x-asciicast");
      expect(await served.text()).toContain("unseen-25");
    }, 60_000);

    test("the recording holds what a viewer was sent the moment it was sent", async () => {
      const term = await connect();
      for (let i = 1; i <= 5; i++) {
        await term.run(`echo seen-at-once-$((${i}*11))`, new RegExp(`seen-at-once-${i * 11}\\r\\n`));
        const served = await pier.fetch(`/api/sessions/${session.id}/recording`, { headers: { cookie } });
        expect(castOutput(await served.text())).toContain(`seen-at-once-${i * 11}\r\n`);
      }
      term.close();
    }, 60_000);

    test("keys typed just before the server stops reach the shell, even those waiting for a resize to land", async () => {
      const term = await connect();
      term.resize(111, 33);
      term.resize(95, 28);
      term.input("echo typed-before-stop-$((6*7)) > stop-mark.txt\r");
      await Bun.sleep(20);
      term.close();
      await pier.close();
      pier = await startTestPier(fullEnv, dataDir);
      const again = await connect();
      await again.run("echo mark=$(cat stop-mark.txt)", /mark=typed-before-stop-42/);
      again.close();
    }, 60_000);

    test("the shell and its environment outlive a server restart; the recording is appended to", async () => {
      const term = await connect();
      await term.run("export PIER_KEPT=kept-$((10+13))", /\$ $|# $/);
      term.close();
      const before = readFileSync(recordingPath(pier.dataDir, session.id), "utf8");
      await pier.close();
      pier = await startTestPier(fullEnv, dataDir);
      const again = await connect();
      await again.run("echo value=$PIER_KEPT", /value=kept-23\r\n/);
      // Fetched at once: what the viewer was sent after the restart is in it.
      const after = await (await pier.fetch(`/api/sessions/${session.id}/recording`, { headers: { cookie } })).text();
      expect(after).toContain("value=kept-23\\r\\n");
      expect(after.startsWith(before)).toBe(true);
      expect(after.length).toBeGreaterThan(before.length);
      again.close();
    }, 120_000);

    test("a repository's terminal start command runs first, and a shell remains when it exits", async () => {
      const other = await addRepo(pier, cookie, `file://${makeRemoteRepo("starter").path}`, "starter");
      // It leaves a mark in the worktree as well as on the screen: what it printed may be redrawn
      // over by the login shell's first prompt when the pane's size changes as it starts (bash's
      // readline does that with a prompt wider than the new width), so the mark is what proves
      // it ran, before the shell that remains.
      const command = "echo started-by-repo-$((1+2)) | tee start-mark.txt";
      const patch = await pier.fetch(`/api/repos/${other}`, { ...json({ terminalCommand: command }, { cookie }), method: "PATCH" });
      expect(((await patch.json()) as { terminalCommand: string }).terminalCommand).toBe(command);
      const started = await activeSession(pier, cookie, { repoId: other });
      const term = await TermClient.connect(pier.url, started.id, { cookie, origin: pier.url });
      clients.push(term);
      await term.run("echo mark=$(cat start-mark.txt)-$$", /mark=started-by-repo-3-\d+/);
      await term.run("echo shell-remains-$((8*8))", /shell-remains-64/);
      term.close();
      await pier.fetch(`/api/sessions/${started.id}/end`, json({}, { cookie }));
      await pier.pier.pods.removeAll(other);
    }, 60_000);

    test("ending the session closes its terminals with 4001 and says so", async () => {
      const term = await connect();
      const end = await pier.fetch(`/api/sessions/${session.id}/end`, json({}, { cookie }));
      expect(end.status).toBe(200);
      expect((await term.closed).code).toBe(4001);
      expect(term.controls).toContainEqual({ type: "ended" });
      expect(await upgradeStatus(pier.url, `/api/sessions/${session.id}/terminal`, { cookie })).toBe(409);
      // The recording stays readable after the end.
      expect((await pier.fetch(`/api/sessions/${session.id}/recording`, { headers: { cookie } })).status).toBe(200);
    }, 60_000);
  });
}
