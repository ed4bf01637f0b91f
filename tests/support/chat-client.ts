/** A scripted chat viewer: a real WebSocket to /api/sessions/:id/chat that keeps every event. */
export class ChatClient {
  events: Array<Record<string, any>> = [];
  private socket: WebSocket;
  opened: Promise<void>;
  closed: Promise<number>;

  constructor(base: string, sessionId: string, headers: Record<string, string>) {
    this.socket = new WebSocket(`${base.replace(/^http/, "ws")}/api/sessions/${sessionId}/chat`, { headers } as unknown as string[]);
    this.opened = new Promise((resolve, reject) => {
      this.socket.addEventListener("open", () => resolve());
      this.socket.addEventListener("error", () => reject(new Error("the chat socket failed to open")));
    });
    this.closed = new Promise((resolve) => this.socket.addEventListener("close", (e) => resolve(e.code)));
    this.socket.addEventListener("message", (e) => this.events.push(JSON.parse(String(e.data))));
  }

  static async connect(base: string, sessionId: string, headers: Record<string, string>): Promise<ChatClient> {
    const client = new ChatClient(base, sessionId, headers);
    await client.opened;
    await client.next("history");
    return client;
  }

  send(text: string): void {
    this.socket.send(JSON.stringify({ type: "message", text }));
  }

  interrupt(): void {
    this.socket.send(JSON.stringify({ type: "interrupt" }));
  }

  /** Any client message, such as an approval. */
  sendJson(message: Record<string, unknown>): void {
    this.socket.send(JSON.stringify(message));
  }

  /** The first event of this type after `from` (an index into events), waiting for it. */
  async next(type: string, from = 0, timeoutMs = 30_000): Promise<Record<string, any>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.slice(from).find((e) => e.type === type);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no ${type} event; got ${JSON.stringify(this.events.map((e) => e.type))}`);
      await Bun.sleep(10);
    }
  }

  /** Sends a message and waits for its turn to end; returns the events of that turn. */
  async turn(text: string, timeoutMs = 60_000): Promise<Array<Record<string, any>>> {
    const from = this.events.length;
    this.send(text);
    await this.next("turn_end", from, timeoutMs);
    return this.events.slice(from);
  }

  close(): void {
    this.socket.close();
  }
}
