/**
 * The pod's services socket (the one pier-ask and curl ask over) against request bodies a pod
 * should not send, spoken to over the real Unix socket as anything in the pod could: bodies that
 * declare themselves too long, chunked ones that run on, and a body on a request that takes none.
 * Each gets a 413 and a closed connection before Pier reads past the limit; git's credential
 * request within it still gets the token; and the refusals are one line in the log, not one each.
 */
import { afterAll, beforeAll, describe, expect, spyOn, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { githubWeb } from "../../src/github/web.ts";
import { PodServices } from "../../src/pods/pod-services.ts";

const KiB = 1024;
const MiB = 1024 * KiB;
const TOKEN = "ghs_the_persons_token";
const dataDir = mkdtempSync(join(tmpdir(), "pier-services-limit-"));
const services = new PodServices({
  dataDir,
  github: githubWeb("https://api.github.com"),
  githubToken: async () => TOKEN,
  pierUrl: () => "http://127.0.0.1:7070",
  mirrorCredential: (key) => `pier_pod_of_${key.repoId}`,
  mcpServer: async () => null,
});
const KEY = { repoId: "repo1", userId: "user1" };
const socket = services.socketPath(KEY);

beforeAll(() => services.open(KEY, "/mirror"));
afterAll(async () => {
  await services.closeAll();
  rmSync(dataDir, { recursive: true, force: true });
}, 60_000);

type Sent = { status: number; answer: string; bodyBytesSent: number; closed: boolean };

/**
 * Sends a request's head, then its body piece by piece (`piece` again and again, up to `bodyBytes`;
 * chunk-framed when `chunked`), stopping as soon as an answer comes; waits for the answer at most
 * `waitMs` after the last byte went. `bodyBytesSent` says how much of the body went before it came.
 */
async function send(head: string, options: { bodyBytes: number; chunked?: boolean; piece?: number; waitMs?: number }): Promise<Sent> {
  const piece = Buffer.alloc(options.piece ?? 16 * KiB, "a");
  let received = "";
  let closed = false;
  let bodyBytesSent = 0;
  const connection = await Bun.connect({
    unix: socket,
    socket: {
      data: (_s, chunk) => void (received += chunk.toString()),
      close: () => void (closed = true),
      end: () => void (closed = true),
      error: () => void (closed = true),
    },
  });
  connection.write(head);
  // One piece of the body at a time (framed as a chunk if need be), counted once all of it went.
  while (bodyBytesSent < options.bodyBytes && !received && !closed) {
    const data = piece.subarray(0, Math.min(piece.length, options.bodyBytes - bodyBytesSent));
    const unit = options.chunked ? Buffer.concat([Buffer.from(`${data.length.toString(16)}\r\n`), data, Buffer.from("\r\n")]) : data;
    let at = 0;
    while (at < unit.length && !received && !closed) {
      const wrote = connection.write(unit.subarray(at));
      if (wrote > 0) at += wrote;
      else await Bun.sleep(5);
    }
    if (at === unit.length) bodyBytesSent += data.length;
  }
  const deadline = Date.now() + (options.waitMs ?? 3_000);
  while (!/\r\n\r\n/.test(received) && !closed && Date.now() < deadline) await Bun.sleep(10);
  // The whole answer, and the close that follows it.
  const settle = Date.now() + 1_000;
  while (!closed && Date.now() < settle) await Bun.sleep(10);
  connection.end();
  return { status: Number(received.match(/^HTTP\/1\.1 (\d{3})/)?.[1] ?? 0), answer: received, bodyBytesSent, closed };
}

const post = (path: string, length: string) => `POST ${path} HTTP/1.1\r\nHost: pier\r\n${length}\r\n\r\n`;

describe("the services socket's request bodies", () => {
  test("a body declared a little over 64 KiB is refused with 413 and Pier's sentence before any of it is sent, and the connection closed", async () => {
    const sent = await send(post("/git-credential", `Content-Length: ${100 * KiB}`), { bodyBytes: 0 });
    expect(sent.status).toBe(413);
    expect(sent.answer).toContain("This request's body may be at most 64 KiB.");
    expect(sent.closed).toBe(true);
  });

  test("a body declared 100 MiB is refused with 413 before any of it is sent, and the connection closed", async () => {
    const sent = await send(post("/git-credential", `Content-Length: ${100 * MiB}`), { bodyBytes: 0 });
    expect(sent.status).toBe(413);
    expect(sent.closed).toBe(true);
  });

  test("a chunked body is refused with 413 as soon as it passes 64 KiB, with nothing more sent", async () => {
    const sent = await send(post("/git-credential", "Transfer-Encoding: chunked"), { bodyBytes: 64 * KiB + 1, chunked: true });
    expect(sent.bodyBytesSent).toBe(64 * KiB + 1);
    expect(sent.status).toBe(413);
    expect(sent.answer).toContain("This request's body may be at most 64 KiB.");
    expect(sent.closed).toBe(true);
  });

  test("a chunked body of 100 MiB is cut off near the limit: what went before the 413 is what the kernel's buffers hold, not the body", async () => {
    const sent = await send(post("/git-credential", "Transfer-Encoding: chunked"), { bodyBytes: 100 * MiB, chunked: true, piece: 64 * KiB });
    expect(sent.status).toBe(413);
    expect(sent.closed).toBe(true);
    expect(sent.bodyBytesSent).toBeLessThan(2 * MiB);
  }, 30_000);

  test("a body on a request that takes none is refused with 413, not read while Pier answers", async () => {
    const chunked = await send("GET /github-token HTTP/1.1\r\nHost: pier\r\nTransfer-Encoding: chunked\r\n\r\n", { bodyBytes: 10 * MiB, chunked: true, piece: 64 * KiB });
    expect(chunked.status).toBe(413);
    expect(chunked.answer).toContain("This request takes no body.");
    expect(chunked.answer).not.toContain(TOKEN);
    expect(chunked.bodyBytesSent).toBeLessThan(2 * MiB);
    const declared = await send("GET /github-token HTTP/1.1\r\nHost: pier\r\nContent-Length: 1000\r\n\r\n", { bodyBytes: 0 });
    expect(declared.status).toBe(413);
    expect(declared.answer).not.toContain(TOKEN);
  }, 30_000);

  test("git's credential request still gets the token, declared or chunked, with a long WWW-Authenticate line within the limit", async () => {
    const request = `protocol=https\nhost=github.com\nwwwauth[]=Basic realm="${"r".repeat(60 * KiB)}"\n\n`;
    const declared = await fetch("http://pier/git-credential", { unix: socket, method: "POST", body: request });
    expect(declared.status).toBe(200);
    expect(await declared.text()).toBe(`username=x-access-token\npassword=${TOKEN}\n`);
    const chunked = await fetch("http://pier/git-credential", {
      unix: socket,
      method: "POST",
      body: new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode(request));
          controller.close();
        },
      }),
    });
    expect(chunked.status).toBe(200);
    expect(await chunked.text()).toBe(`username=x-access-token\npassword=${TOKEN}\n`);
    const plain = await fetch("http://pier/github-token", { unix: socket });
    expect(await plain.text()).toBe(TOKEN);
  });

  test("git's credential request for Pier's own address gets the pod's credential for its mirror, and for any other host nothing of it", async () => {
    const ask = async (fields: string) => (await fetch("http://pier/git-credential", { unix: socket, method: "POST", body: `${fields}\n` })).text();
    expect(await ask("protocol=http\nhost=127.0.0.1:7070")).toBe(`username=pier-pod\npassword=pier_pod_of_repo1\n`);
    for (const other of ["protocol=https\nhost=127.0.0.1:7070", "protocol=http\nhost=127.0.0.1:7071", "protocol=http\nhost=127.0.0.1", "protocol=http\nhost=evil.example"]) {
      expect(await ask(other)).not.toContain("pier_pod_");
    }
  });

  test("a pod's refusals are one line in the log, not one per request", async () => {
    const other = { repoId: "repo2", userId: "user1" };
    await services.open(other, "/mirror");
    const logged = spyOn(console, "error").mockImplementation(() => {});
    try {
      const refused = await Promise.all(
        Array.from({ length: 20 }, () =>
          fetch("http://pier/git-credential", { unix: services.socketPath(other), method: "POST", body: "x".repeat(100 * KiB) }).then((res) => res.status),
        ),
      );
      expect(refused).toEqual(Array(20).fill(413));
      const lines = logged.mock.calls.map(([line]) => String(line)).filter((line) => line.includes("repo2/user1"));
      expect(lines.length).toBe(1);
      expect(lines[0]).toContain("refused a request whose body did not come within the 65536 bytes POST /git-credential takes");
    } finally {
      logged.mockRestore();
    }
  });
});
