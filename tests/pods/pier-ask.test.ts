/**
 * pier-ask, Pier's client for a pod's socket (src/pods/pier-ask.c), built the way Pier builds it,
 * and once more with AddressSanitizer and UBSan so that any read or write past a buffer fails the
 * test. Against a real Bun.serve on a Unix socket it asks, encodes and prints exactly; against a
 * hostile peer (long lines, a huge head, lengths that overflow, chunks that lie, a body past
 * 4 MiB, an answer cut off, escape codes in a refusal, silence) it stops with one sentence on
 * stderr, prints nothing of a partial answer, and never overruns. Then the build itself: once per
 * source, a prebuilt that does not run is said and gives way to curl.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PierAskBuild } from "../../src/pods/pier-ask.ts";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { closeForGood, json, setUpAdmin, startTestPier } from "../support/pier.ts";
import { activeSession, addRepo } from "../support/sessions.ts";

const SOURCE = join(import.meta.dir, "..", "..", "src", "pods", "pier-ask.c");
const work = mkdtempSync(join(tmpdir(), "pier-ask-"));
let built: string;
let sanitized: string;

type Run = { code: number; stdout: Buffer; stderr: string };

async function ask(binary: string, args: string[], stdin?: string | Uint8Array<ArrayBuffer>): Promise<Run> {
  const child = Bun.spawn([binary, ...args], { stdin: stdin === undefined ? "ignore" : new Blob([stdin]), stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).arrayBuffer(), new Response(child.stderr).text(), child.exited]);
  return { code, stdout: Buffer.from(stdout), stderr };
}

/**
 * A peer on a Unix socket that answers every request with `answer` (bytes, or nothing and
 * silence) once the first bytes of it arrive; `requests` has what each connection sent.
 */
async function hostilePeer(name: string, answer: Uint8Array | string | null): Promise<{ path: string; requests: string[]; close(): void }> {
  const path = join(work, `${name}.sock`);
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    const index = requests.push("") - 1;
    socket.on("data", (chunk) => {
      requests[index] += chunk.toString("latin1");
    });
    socket.once("data", () => {
      if (answer !== null) socket.end(answer);
    });
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return {
    path,
    requests,
    close() {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}

beforeAll(async () => {
  built = (await new PierAskBuild({ toolsDir: join(work, "tools") }).binary())!;
  expect(built).toBeTruthy();
  sanitized = join(work, "pier-ask-sanitized");
  const compile = Bun.spawnSync(["gcc", "-g", "-O1", "-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-o", sanitized, SOURCE], { stderr: "pipe" });
  expect(compile.exitCode, compile.stderr.toString()).toBe(0);
}, 120_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("asking a well-behaved Pier", () => {
  let server: ReturnType<typeof Bun.serve>;
  const socket = join(work, "pier.sock");
  const BIG = Buffer.alloc(3 * 1024 * 1024, "x");

  beforeAll(() => {
    server = Bun.serve({
      unix: socket,
      async fetch(request) {
        const url = new URL(request.url);
        if (url.pathname === "/query") return Response.json({ method: request.method, params: [...url.searchParams] });
        if (url.pathname === "/echo") return new Response(await request.arrayBuffer());
        // Streamed, so it goes out chunked.
        if (url.pathname === "/big") return new Response(new ReadableStream({ start: (c) => (c.enqueue(BIG), c.enqueue(new TextEncoder().encode("end")), c.close()) }));
        if (url.pathname === "/empty") return new Response(null, { status: 204 });
        if (url.pathname === "/escapes") return new Response("\x1b[31mNo\x07 way\x1b]0;title\x07\r\nsecond line\n", { status: 403 });
        return new Response("No live session of yours has that id.\n", { status: 404 });
      },
    });
  });
  afterAll(() => server.stop(true));

  for (const [kind, binary] of [["built", () => built], ["sanitized", () => sanitized]] as const) {
    test(`${kind}: names and values are percent-encoded, each its own pair; the body comes back byte for byte`, async () => {
      const values = ["a b&c=d", "é/\\?#%", "line\nbreak", "", "=x="];
      const run = await ask(binary(), [socket, "GET", "/query", ...values.map((value, i) => `k${i}=${value}`), "odd name=1"]);
      expect(run.stderr).toBe("");
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout.toString())).toEqual({ method: "GET", params: [...values.map((value, i) => [`k${i}`, value]), ["odd name", "1"]] });

      const bytes = new Uint8Array(60 * 1024).map((_, i) => (i * 7) % 256);
      const echoed = await ask(binary(), [socket, "POST", "/echo"], bytes);
      expect(echoed.code).toBe(0);
      expect(new Uint8Array(echoed.stdout)).toEqual(bytes);
      const empty = await ask(binary(), [socket, "POST", "/echo"], "");
      expect([empty.code, empty.stdout.length]).toEqual([0, 0]);
    });

    test(`${kind}: a streamed (chunked) answer of 3 MiB arrives whole; a 204 is empty`, async () => {
      const run = await ask(binary(), [socket, "GET", "/big"]);
      expect(run.stderr).toBe("");
      expect(run.stdout.length).toBe(BIG.length + 3);
      expect(run.stdout.subarray(-4).toString()).toBe("xend");
      expect(await ask(binary(), [socket, "GET", "/empty"])).toEqual({ code: 0, stdout: Buffer.alloc(0), stderr: "" });
    });

    test(`${kind}: a refusal is its first line on stderr, control characters shown as ?, and nothing on stdout`, async () => {
      expect(await ask(binary(), [socket, "GET", "/nope"])).toEqual({ code: 1, stdout: Buffer.alloc(0), stderr: "Pier: No live session of yours has that id.\n" });
      expect(await ask(binary(), [socket, "GET", "/escapes"])).toEqual({ code: 1, stdout: Buffer.alloc(0), stderr: "Pier: ?[31mNo? way?]0;title?\n" });
    });
  }

  test("a wrong command line is exit 2, and a request past its bounds is refused before it is sent", async () => {
    for (const args of [[], [socket, "GET"], [socket, "PUT", "/x"], [socket, "GET", "relative"], [socket, "GET", "/a b"], [socket, "GET", "/a?b=c"], [socket, "GET", "/x", "no-equals"], [socket, "GET", "/x", "=value"]]) {
      const run = await ask(built, args);
      expect(run.code, args.join(" ")).toBe(2);
      expect(run.stderr).toStartWith("usage: pier-ask");
    }
    expect((await ask(sanitized, [socket, "GET", "/query", `v=${"é".repeat(4000)}`])).stderr).toBe("Pier: the request is longer than 16 KiB.\n");
    expect((await ask(sanitized, [socket, "POST", "/echo"], "x".repeat(64 * 1024 + 1))).stderr).toBe("Pier: what to send is larger than 64 KiB.\n");
    expect((await ask(built, [join(work, "nobody.sock"), "GET", "/x"])).stderr).toBe(`Pier: could not reach Pier at ${join(work, "nobody.sock")}: No such file or directory\n`);
    expect((await ask(built, ["version"])).stdout.toString()).toBe("pier-ask 1\n");
  });
});

describe("a hostile peer", () => {
  const MiB = 1024 * 1024;
  const cases: Array<[string, string | Uint8Array, string]> = [
    ["not HTTP", "SSH-2.0-OpenSSH\r\n", "Pier's answer is not HTTP."],
    ["a status cut short", "HTTP/1.1 2\r\n\r\n", "Pier's answer is not HTTP."],
    ["a header line of 100 KiB", `HTTP/1.1 200 OK\r\nX-Long: ${"a".repeat(100 * 1024)}\r\n\r\n`, "Pier's answer has a line longer than 8 KiB."],
    ["a head of 40 KiB in short lines", `HTTP/1.1 200 OK\r\n${"X-A: b\r\n".repeat(5000)}\r\n`, "Pier's answer has a head larger than 16 KiB."],
    ["a length that overflows", "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999999\r\n\r\nsecret", "Pier's answer is larger than 4 MiB, or says so unreadably."],
    ["a negative length", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\nsecret", "Pier's answer is larger than 4 MiB, or says so unreadably."],
    ["two lengths", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 6\r\n\r\nsecret", "Pier's answer gives two lengths."],
    ["a body cut off", "HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\npier_gw_half-a-tok", "Pier's answer ended early."],
    ["a chunk size that overflows", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffffffffff\r\nsecret\r\n0\r\n\r\n", "Pier's answer has a chunk of no size this reads."],
    ["a chunk longer than it said", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nsecret\r\n0\r\n\r\n", "Pier's answer has a chunk longer than it said."],
    ["chunks past 4 MiB", `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${`100000\r\n${"c".repeat(MiB)}\r\n`.repeat(5)}0\r\n\r\n`, "Pier's answer is larger than 4 MiB."],
    ["a body past 4 MiB, to the end of the connection", `HTTP/1.1 200 OK\r\n\r\n${"b".repeat(5 * MiB)}`, "Pier's answer is larger than 4 MiB."],
    ["an encoding it does not read", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", "Pier's answer has a transfer encoding this does not read (gzip, chunked)."],
    ["a header without a colon", "HTTP/1.1 200 OK\r\nnonsense\r\n\r\n", "Pier's answer has a header line without a colon."],
    ["nothing at all", "", "Pier's answer ended early."],
  ];

  for (const [name, answer, sentence] of cases) {
    test(`${name}: one sentence, nothing printed, no overrun`, async () => {
      const peer = await hostilePeer(name.replaceAll(" ", "-").slice(0, 20), answer);
      try {
        for (const binary of [built, sanitized]) {
          const run = await ask(binary, [peer.path, "GET", "/anthropic-key", "session=s1"]);
          expect(run.stderr).toBe(`Pier: ${sentence}\n`);
          expect(run.code).toBe(1);
          expect(run.stdout.length).toBe(0);
        }
        expect(peer.requests[0]).toBe("GET /anthropic-key?session=s1 HTTP/1.1\r\nHost: pier\r\nConnection: close\r\n\r\n");
      } finally {
        peer.close();
      }
    }, 30_000);
  }

  test("a peer that never answers is given up after 10 s", async () => {
    const peer = await hostilePeer("silent", null);
    try {
      const run = await ask(built, [peer.path, "POST", "/git-credential"], "protocol=https\nhost=github.com\n");
      expect(run).toEqual({ code: 1, stdout: Buffer.alloc(0), stderr: "Pier: Pier did not answer within 10 s.\n" });
      expect(peer.requests[0]).toEndWith("Content-Length: 31\r\n\r\nprotocol=https\nhost=github.com\n");
    } finally {
      peer.close();
    }
  }, 30_000);
});

describe("the build", () => {
  test("is made once per source: another Pier with the same tools directory takes it as it is", async () => {
    const again = await new PierAskBuild({ toolsDir: join(work, "tools") }).binary();
    expect(again).toBe(built);
    const made = statSync(built).mtimeMs;
    expect(statSync(again!).mtimeMs).toBe(made);
    expect(readdirSync(join(work, "tools", "pier-ask"))).toHaveLength(1);
  });

  test("a ready-made program that does not run is said, and the helpers ask with curl instead", async () => {
    const said: string[] = [];
    expect(await new PierAskBuild({ toolsDir: join(work, "tools"), prebuilt: "/bin/false", log: (line) => said.push(line) }).binary()).toBeNull();
    expect(said).toEqual(["pier: the helpers in pods ask Pier with the image's curl, which many images lack: PIER_ASK_BINARY (/bin/false) does not run here."]);

    // On the local runtime (the helpers run on this machine, which has curl).
    const pier = await startTestPier({ PIER_ALLOW_LOCAL_REPOS: "1", PIER_ASK_BINARY: "/bin/false" });
    try {
      const cookie = await setUpAdmin(pier);
      await pier.fetch("/api/settings", { ...json({ anthropicApiKey: "sk-ant-unused" }, { cookie }), method: "PUT" });
      const repoId = await addRepo(pier, cookie, `file://${makeRemoteRepo("curled").path}`, "curled");
      const session = await activeSession(pier, cookie, { repoId });
      const services = join(pier.dataDir, "pods", repoId, session.userId);
      expect(readdirSync(services)).not.toContain("pier-ask");
      const helper = Bun.spawn(["sh", "-c", `${join(services, "anthropic-key")} ${session.id}`], { stdout: "pipe", stderr: "pipe" });
      const [out, err] = await Promise.all([new Response(helper.stdout).text(), new Response(helper.stderr).text(), helper.exited]);
      expect(err).toBe("");
      expect(out).toMatch(/^pier_gw_\S+$/);
    } finally {
      await closeForGood(pier);
    }
  }, 60_000);
});
