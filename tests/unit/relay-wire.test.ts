/**
 * The preview relay's wire as Pier reads it (src/previews/relay-wire.ts): what a relay sends is a
 * pod's words, so every parser takes exactly what pier-relay.c writes and refuses the rest whole.
 */
import { describe, expect, test } from "bun:test";
import {
  DATA,
  FirstFrame,
  HELLO,
  ID_BYTES,
  OPEN,
  exitFrame,
  frame,
  helloVersion,
  idText,
  openFrame,
  parseFailure,
  parsePorts,
} from "../../src/previews/relay-wire.ts";

const text = (value: string) => new TextEncoder().encode(value);
const ID = Uint8Array.from({ length: ID_BYTES }, (_, i) => i * 17);

describe("a relay's hello", () => {
  test("says its version", () => {
    expect(helloVersion(text("pier-relay 1"))).toBe(1);
    expect(helloVersion(text("pier-relay 12"))).toBe(12);
  });

  test.each(["", "pier-relay", "pier-relay 0", "pier-relay 01", "pier-relay 1\n", "pier-pty 1", "PIER-RELAY 1", "pier-relay 1 extra", "pier-relay 9999999"])(
    "%j is not a hello",
    (said) => expect(helloVersion(text(said))).toBeNull(),
  );
});

describe("the listening ports (L)", () => {
  test("a line per socket, unknowns empty", () => {
    const payload = text("3000\t127.0.0.1\t42\tabc123\tbun\n5173\t::\t\t\t\n8080\t0.0.0.0\t7\t\tnode server\n");
    expect(parsePorts(payload)).toEqual([
      { port: 3000, address: "127.0.0.1", pid: 42, sessionId: "abc123", name: "bun" },
      { port: 5173, address: "::", pid: null, sessionId: null, name: null },
      { port: 8080, address: "0.0.0.0", pid: 7, sessionId: null, name: "node server" },
    ]);
  });

  test("an empty list is an empty payload", () => {
    expect(parsePorts(new Uint8Array(0))).toEqual([]);
  });

  test("as many as 512 sockets", () => {
    const lines = Array.from({ length: 512 }, (_, i) => `${i + 1}\t127.0.0.1\t\t\t\n`).join("");
    expect(parsePorts(text(lines))).toHaveLength(512);
    expect(parsePorts(text(lines + "600\t127.0.0.1\t\t\t\n"))).toBeNull();
  });

  test.each([
    ["no final newline", "3000\t127.0.0.1\t\t\t"],
    ["a field short", "3000\t127.0.0.1\t\t\n"],
    ["a field over", "3000\t127.0.0.1\t\t\t\t\n"],
    ["port 0", "0\t127.0.0.1\t\t\t\n"],
    ["port 65536", "65536\t127.0.0.1\t\t\t\n"],
    ["a port with a leading zero", "03000\t127.0.0.1\t\t\t\n"],
    ["an address that is none", "3000\tlocalhost\t\t\t\n"],
    ["pid 0", "3000\t127.0.0.1\t0\t\t\n"],
    ["a pid that is not a number", "3000\t127.0.0.1\t4x\t\t\n"],
    ["a session id with capitals", "3000\t127.0.0.1\t\tABC\t\n"],
    ["a session id too long", `3000\t127.0.0.1\t\t${"a".repeat(65)}\t\n`],
    ["a name with an escape", "3000\t127.0.0.1\t\t\t\x1b[2J\n"],
    ["a name with a backslash", "3000\t127.0.0.1\t\t\ta\\b\n"],
    ["a name too long", `3000\t127.0.0.1\t\t\t${"n".repeat(17)}\n`],
    ["an empty line", "3000\t127.0.0.1\t\t\t\n\n"],
  ])("refused whole: %s", (_, said) => {
    expect(parsePorts(text(said))).toBeNull();
  });
});

describe("a failed open (F)", () => {
  const failure = (reason: string) => {
    const payload = new Uint8Array(ID_BYTES + reason.length);
    payload.set(ID);
    payload.set(text(reason), ID_BYTES);
    return parseFailure(payload);
  };

  test("names the open and why", () => {
    expect(failure("refused")).toEqual({ id: idText(ID), reason: "refused", detail: "" });
    expect(failure("timeout")?.reason).toBe("timeout");
    expect(failure("busy")?.reason).toBe("busy");
    expect(failure("unreachable Network is unreachable")).toEqual({ id: idText(ID), reason: "unreachable", detail: "Network is unreachable" });
  });

  test.each(["", "nope", "refused ", "unreachable", "unreachable \x1b]0;title\x07", `unreachable ${"x".repeat(201)}`])("%j is refused", (reason) => {
    expect(failure(reason)).toBeNull();
  });

  test("an id alone is refused", () => {
    expect(parseFailure(ID)).toBeNull();
  });
});

describe("Pier's frames to a relay", () => {
  test("an open names the id and the port, big-endian", () => {
    const bytes = openFrame(ID, 0xbeef);
    expect(bytes[0]).toBe(OPEN);
    expect(new DataView(bytes.buffer).getUint32(1)).toBe(ID_BYTES + 2);
    expect([...bytes.subarray(5, 5 + ID_BYTES)]).toEqual([...ID]);
    expect([bytes[5 + ID_BYTES], bytes[6 + ID_BYTES]]).toEqual([0xbe, 0xef]);
  });

  test("exit is a bare X", () => {
    expect([...exitFrame()]).toEqual([0x58, 0, 0, 0, 0]);
  });
});

describe("a connection's first frame", () => {
  const hello = frame(HELLO, text("pier-relay 1"));
  const data = frame(DATA, ID);

  test("a hello cut at every byte, with frames after it left over", () => {
    const after = frame(0x4c, text("3000\t127.0.0.1\t\t\t\n"));
    const stream = Buffer.concat([hello, after]);
    for (let cut = 0; cut <= stream.length; cut++) {
      const first = new FirstFrame();
      const early = first.push(stream.subarray(0, cut));
      const read = early ?? first.push(stream.subarray(cut));
      if (read === null || read === "refused") throw new Error(`cut at ${cut}: ${read}`);
      expect(read.type).toBe(HELLO);
      expect(new TextDecoder().decode(read.payload)).toBe("pier-relay 1");
      // What the reader then reads: the rest of the chunk that completed the hello, then the chunks after it.
      const following = early ? Buffer.concat([read.rest, stream.subarray(cut)]) : Buffer.from(read.rest);
      expect(following.equals(after)).toBe(true);
    }
  });

  test("a data connection's id, and the stream's first bytes after it byte for byte", () => {
    const first = new FirstFrame();
    const read = first.push(Buffer.concat([data, text("HTTP/1.1 200 OK\r\n")]));
    if (read === null || read === "refused") throw new Error(String(read));
    expect(read.type).toBe(DATA);
    expect([...read.payload]).toEqual([...ID]);
    expect(new TextDecoder().decode(read.rest)).toBe("HTTP/1.1 200 OK\r\n");
  });

  test.each([
    ["another type first", frame(0x4c, text("3000\t127.0.0.1\t\t\t\n"))],
    ["a hello longer than 64 bytes", frame(HELLO, text("x".repeat(65)))],
    ["an id longer than 16 bytes", frame(DATA, new Uint8Array(17))],
    ["an HTTP request", text("GET / HTTP/1.1\r\nHost: pier\r\n\r\n")],
  ])("refused as soon as the header is in: %s", (_, bytes) => {
    expect(new FirstFrame().push(bytes.subarray(0, 5))).toBe("refused");
  });

  test("a header announcing 4 GiB is refused before anything is kept for it", () => {
    expect(new FirstFrame().push(Uint8Array.from([HELLO, 0xff, 0xff, 0xff, 0xff]))).toBe("refused");
  });
});
