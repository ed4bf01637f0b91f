import type { ClientMessage } from "../../src/terminal/protocol.ts";

/**
 * A scripted terminal viewer: a real WebSocket to /api/sessions/:id/terminal that keeps what it
 * received, decoded, so tests can wait for text to appear.
 */
export class TermClient {
  private socket: WebSocket;
  private decoder = new TextDecoder();
  text = "";
  /** Every binary message as it came (the first is the snapshot), for tests that check bytes. */
  chunks: Uint8Array[] = [];
  /** The control messages as they arrived, unchecked: checking them is the tests' job. */
  controls: Array<{ type: string; message?: string }> = [];
  closed: Promise<{ code: number; reason: string }>;
  opened: Promise<void>;

  constructor(url: string, headers: Record<string, string>) {
    this.socket = new WebSocket(url.replace(/^http/, "ws"), { headers } as unknown as string[]);
    this.socket.binaryType = "arraybuffer";
    this.opened = new Promise((resolve, reject) => {
      this.socket.addEventListener("open", () => resolve());
      this.socket.addEventListener("error", () => reject(new Error("the terminal socket failed to open")));
    });
    this.closed = new Promise((resolve) => {
      this.socket.addEventListener("close", (event) => resolve({ code: event.code, reason: event.reason }));
    });
    this.socket.addEventListener("message", (event) => {
      if (typeof event.data === "string") this.controls.push(JSON.parse(event.data));
      else {
        const bytes = new Uint8Array(event.data as ArrayBuffer);
        this.chunks.push(bytes);
        this.text += this.decoder.decode(bytes, { stream: true });
      }
    });
  }

  static async connect(base: string, sessionId: string, headers: Record<string, string>, size = { cols: 100, rows: 30 }): Promise<TermClient> {
    const client = new TermClient(`${base}/api/sessions/${sessionId}/terminal`, headers);
    await client.opened;
    client.resize(size.cols, size.rows);
    await client.waitFor(/\S/);
    return client;
  }

  input(data: string): void {
    this.send({ type: "input", data });
  }

  resize(cols: number, rows: number): void {
    this.send({ type: "resize", cols, rows });
  }

  private send(message: ClientMessage): void {
    this.socket.send(JSON.stringify(message));
  }

  sendRaw(data: string): void {
    this.socket.send(data);
  }

  /** Runs a shell command line and waits for a marker it prints. */
  async run(command: string, marker: RegExp, timeoutMs = 15_000): Promise<void> {
    this.input(`${command}\r`);
    await this.waitFor(marker, timeoutMs);
  }

  async waitFor(pattern: RegExp, timeoutMs = 15_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = this.text.match(pattern);
      if (match) return match;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}; got: ${JSON.stringify(this.text.slice(-500))}`);
      await Bun.sleep(20);
    }
  }

  close(): void {
    this.socket.close();
  }
}

/**
 * Sends a WebSocket upgrade by hand and returns the HTTP status line's code, so tests can see
 * an upgrade being refused (a WebSocket client only reports "failed").
 */
export async function upgradeStatus(base: string, path: string, headers: Record<string, string>): Promise<number> {
  const url = new URL(base);
  const request = [
    `GET ${path} HTTP/1.1`,
    `Host: ${url.host}`,
    "Upgrade: websocket",
    "Connection: Upgrade",
    "Sec-WebSocket-Version: 13",
    `Sec-WebSocket-Key: ${Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64")}`,
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
    "",
    "",
  ].join("\r\n");
  return new Promise((resolve, reject) => {
    let received = "";
    void Bun.connect({
      hostname: url.hostname,
      port: Number(url.port),
      socket: {
        open: (socket) => void socket.write(request),
        data(socket, data) {
          received += data.toString();
          const status = received.match(/^HTTP\/1\.1 (\d{3})/);
          if (status) {
            socket.end();
            resolve(Number(status[1]));
          }
        },
        error: (_socket, error) => reject(error),
      },
    });
  });
}
