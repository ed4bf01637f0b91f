/**
 * MCP's stdio transport over a process in a pod (here the local runtime's): messages one per
 * line, however the output is cut into chunks; anything that is not a JSON-RPC message, or a
 * line past the limit, breaks the connection at once with a sentence saying what came, instead
 * of leaving the client to wait.
 */
import { describe, expect, test } from "bun:test";
import { MAX_MESSAGE_BYTES, PodProcessTransport } from "../../src/mcp-servers/pod-transport.ts";
import { LocalRuntime } from "../../src/runtime/local-runtime.ts";

const runtime = new LocalRuntime();
const pod = { id: "local", image: "local" };

/** A transport over `script` run by bash, and what came through it until it closed. */
async function through(script: string) {
  const process = await runtime.spawn(pod, ["bash", "-c", script], { cwd: "/" });
  const transport = new PodProcessTransport(process);
  const messages: unknown[] = [];
  const errors: string[] = [];
  const closed = new Promise<void>((resolve) => {
    transport.onclose = resolve;
  });
  transport.onmessage = (message) => messages.push(message);
  transport.onerror = (error) => errors.push(error.message);
  await transport.start();
  return { transport, messages, errors, closed, process };
}

describe("the transport to an MCP server in a pod", () => {
  test("reads messages line by line, however the output is cut, and writes each as one line", async () => {
    const echo = await through(
      'printf \'{"jsonrpc":"2.0","id":1,"res\'; sleep 0.1; printf \'ult":{}}\\r\\n\\n{"jsonrpc":"2.0","method":"notifications/x"}\\n{"jsonrpc"\'; sleep 0.1; printf \':"2.0","id":2,"result":{"n":"✓"}}\\n\'; read -r line; printf "%s\\n" "$line"',
    );
    for (const deadline = Date.now() + 10_000; echo.messages.length < 3 && Date.now() < deadline; ) await Bun.sleep(20);
    expect(echo.messages).toEqual([
      { jsonrpc: "2.0", id: 1, result: {} },
      { jsonrpc: "2.0", method: "notifications/x" },
      { jsonrpc: "2.0", id: 2, result: { n: "✓" } },
    ]);
    await echo.transport.send({ jsonrpc: "2.0", id: 3, result: { back: "again" } });
    await echo.closed;
    expect(echo.messages.at(-1)).toEqual({ jsonrpc: "2.0", id: 3, result: { back: "again" } });
    expect(echo.errors).toEqual([]);
    expect(echo.transport.problem).toBeNull();
  });

  test("a line that is not a JSON-RPC message breaks the connection at once, saying what came", async () => {
    for (const garbage of ["Server ready on stdio!", "[1,2,3]", '{"id":1,"result":{}}']) {
      const started = await through(`printf '%s\\n' '${garbage}'; exec cat >/dev/null`);
      await started.closed;
      expect(started.transport.problem).toContain(`not an MCP message on its standard output: ${JSON.stringify(garbage)}`);
      expect(started.errors).toHaveLength(1);
      expect(started.messages).toEqual([]);
      started.process.close();
    }
  });

  test("a line past the limit breaks it too, without keeping it all", async () => {
    const flood = await through(`head -c ${MAX_MESSAGE_BYTES + 1024 * 1024} /dev/zero | tr '\\0' a; exec cat >/dev/null`);
    await flood.closed;
    expect(flood.transport.problem).toBe("it sent a message over 8 MiB");
    flood.process.close();
  });

  test("the process ending closes it, and nothing can be sent after", async () => {
    const ends = await through("exit 0");
    await ends.closed;
    expect(ends.transport.isClosed).toBe(true);
    expect(ends.transport.problem).toBeNull();
    await expect(ends.transport.send({ jsonrpc: "2.0", id: 1, result: {} })).rejects.toThrow("closed");
  });
});
