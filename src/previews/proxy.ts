import { Agent, type IncomingMessage, type ServerResponse, request } from "node:http";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { pipeline } from "node:stream";
import { AppError } from "../infra/errors.ts";
import type { Dialer } from "./dialer.ts";
import { scriptInjection, takesScript } from "./html-inject.ts";
import type { Admitted, HoldOpen } from "./access.ts";
import { type ForwardedFor, headersToApp, headersToBrowser, namesPierCookie } from "./proxy-headers.ts";
import { type Splicer, descriptorOf } from "./splicer.ts";

/** The app's answer head may be this long: four times what the listener takes from browsers. */
const MAX_APP_HEAD = 64 * 1024;
/** A WebSocket (a dev server's hot reload) with nothing said either way this long is closed. */
const UPGRADE_IDLE_MS = 30 * 60_000;
/**
 * Answers at least this long (by their Content-Length) are handed to the splicer: starting it
 * costs about what Pier spends carrying 1 MiB itself, and the browser's connection closes after
 * the answer (a new one costs it a fraction of a millisecond).
 */
const HANDOFF_MIN_BYTES = 1024 * 1024;

/** One request or upgrade let in, and how the browser reached it. */
export interface Exchange {
  admitted: Admitted;
  /** The preview's Host as the browser sent it, the proto it came over, and the browser's address. */
  forwarded: Omit<ForwardedFor, "appPort">;
}

/** The app did not answer its request; nothing was sent to the browser yet. */
export class AppDidNotAnswer extends AppError {
  constructor(port: number, why: string) {
    super(502, "app_did_not_answer", `The app on port ${port} in your pod closed the connection without answering (${why}).`);
  }
}

/**
 * An agent that has one connection, the one Pier dialled into the pod, and gives it to the one
 * request made with it: node:http then speaks HTTP/1.1 over a stream it did not open (its
 * createConnection option would be ignored and it would dial port 80 itself). It asks the app
 * to close afterwards, so the stream goes with its request.
 */
class OneConnection extends Agent {
  constructor(private socket: Socket) {
    super({ keepAlive: false });
  }

  override createConnection(): Duplex {
    return this.socket;
  }
}

/**
 * Web app previews' HTTP/1.1 and WebSockets, carried to a port in the person's pod over a
 * stream the dialer opens there (the pod's relay on Docker). Each request from the browser gets
 * its own stream to the app (the browser's own connection to Pier stays alive across them);
 * bodies stream both ways with backpressure, an event stream's events go on as they come, and
 * an upgrade becomes the two streams spliced. Headers are changed as proxy-headers.ts says, and
 * pages get the console script (html-inject.ts). Every exchange under way is held open by what
 * admitted it (HoldOpen), so a sign-out, a revoked share or an ended session ends it at once.
 */
export class PreviewProxy {
  /** Every exchange under way, to end them all when Pier stops. */
  private open = new Set<() => void>();

  constructor(private deps: { dialer: Dialer; holdOpen: HoldOpen; splicer?: Splicer }) {}

  /**
   * Carries the request to the app and its answer back. Rejects with an AppError (and answers
   * nothing) when no stream to the app could be had or the app closed it without an answer;
   * once the answer has begun, a failure cuts the browser's connection, which is all HTTP/1.1 has.
   */
  async forward(req: IncomingMessage, res: ServerResponse, exchange: Exchange): Promise<void> {
    const { admitted, forwarded } = exchange;
    const upstream = await this.deps.dialer.dial(admitted.key, admitted.port);
    if (res.destroyed) {
      upstream.destroy();
      return;
    }
    const previewOrigin = `${forwarded.proto}://${forwarded.host}`;
    let cut = () => {
      upstream.destroy();
      res.destroy();
    };
    const close = () => cut();
    const forget = this.hold(admitted, close);
    let handed = false;
    res.once("close", () => {
      // Handed to the splicer, the exchange is held until the splicer is done, not while Pier's socket is.
      if (handed) return;
      forget();
      // The browser went before the whole answer did: nothing is left to carry it to.
      if (!res.writableFinished) upstream.destroy();
    });
    await new Promise<void>((resolve, reject) => {
      const toApp = request({
        method: req.method,
        path: req.url,
        headers: headersToApp(req.headers, { ...forwarded, appPort: admitted.port }),
        agent: new OneConnection(upstream),
      });
      toApp.once("error", (error) => {
        upstream.destroy();
        if (res.headersSent) res.destroy();
        else reject(new AppDidNotAnswer(admitted.port, error.message));
      });
      toApp.once("response", (answer) => {
        const headers = headersToBrowser(answer.headers, admitted.port, previewOrigin);
        const injected = takesScript(req.method, req.headers, answer.statusCode, answer.headers);
        if (!injected && this.mayHandOff(req, res, answer, upstream)) {
          handed = true;
          // The rest of the chunk that held the head reaches the answer after this event: hand it over a turn later.
          upstream.pause();
          setImmediate(() => {
            if (res.destroyed || upstream.destroyed) {
              close();
              return forget();
            }
            cut = this.handOff(answer, headers, req.socket, upstream, forget);
          });
          return resolve();
        }
        if (injected) {
          delete headers["content-length"];
          delete headers["content-encoding"];
        }
        res.writeHead(answer.statusCode ?? 502, answer.statusMessage, headers);
        // At once: a browser opening an event stream waits for the head before the first event.
        res.flushHeaders();
        const through = injected ? scriptInjection(answer.headers) : [];
        pipeline([answer, ...through, res], (error: NodeJS.ErrnoException | null) => {
          if (error) close();
        });
        resolve();
      });
      req.pipe(toApp);
      // Dialled streams come paused, and node:http's client only listens for data: set it going
      // (the app says nothing before it has read the request, which is written after this).
      upstream.resume();
    });
  }

  /**
   * Whether the answer goes to the browser by the splicer: a body of a known, large length, the
   * request all passed on, nothing of Pier's still to be written on the browser's connection,
   * and both connections' descriptors at hand.
   */
  private mayHandOff(req: IncomingMessage, res: ServerResponse, answer: IncomingMessage, upstream: Socket): boolean {
    const length = Number(answer.headers["content-length"]);
    return (
      this.deps.splicer?.ready() === true &&
      req.method !== "HEAD" &&
      answer.statusCode !== 204 &&
      answer.statusCode !== 304 &&
      answer.headers["transfer-encoding"] === undefined &&
      Number.isSafeInteger(length) &&
      length >= HANDOFF_MIN_BYTES &&
      req.complete &&
      upstream.writableLength === 0 &&
      !res.headersSent &&
      res.socket !== null &&
      res.socket.writableLength === 0 &&
      descriptorOf(res.socket) !== null &&
      descriptorOf(upstream) !== null
    );
  }

  /**
   * Gives the answer to the splicer: the head as the browser is to see it (closing the
   * connection after it, as only the splicer knows where the answer ends now), what Pier has
   * read of the body, then the rest straight from the app's stream. Returns how to cut it.
   */
  private handOff(answer: IncomingMessage, headers: ReturnType<typeof headersToBrowser>, browser: Socket, upstream: Socket, forget: () => void): () => void {
    const read: Buffer[] = [answerHead(answer, headers)];
    // What Bun read past the head: parsed into the answer, or still in the socket's buffer (the body, raw, in both).
    for (const from of [answer, upstream]) {
      for (let chunk: Buffer | null; (chunk = from.read() as Buffer | null) !== null; ) read.push(chunk);
    }
    // Pier's sockets close under the answer and its request now: that is not a failure of either.
    answer.on("error", () => {});
    const counted = this.deps.dialer.carriedElsewhere?.(upstream);
    const spliced = this.deps.splicer!.carry(Buffer.concat(read), browser, upstream);
    void spliced.done.then(({ bytes }) => {
      counted?.(bytes);
      forget();
    });
    return spliced.cut;
  }

  /**
   * Carries a WebSocket upgrade: the browser's request head goes to the app as headersToApp
   * says, the app's answer comes back as it was sent (less a Set-Cookie of Pier's cookie), and
   * then the two streams are spliced, frames untouched. Rejects with an AppError (having written
   * nothing to the browser) when no stream to the app could be had.
   */
  async forwardUpgrade(req: IncomingMessage, browser: Socket, head: Buffer, exchange: Exchange): Promise<void> {
    const { admitted, forwarded } = exchange;
    const upstream = await this.deps.dialer.dial(admitted.key, admitted.port);
    if (browser.destroyed) {
      upstream.destroy();
      return;
    }
    const close = () => {
      upstream.destroy();
      browser.destroy();
    };
    const forget = this.hold(admitted, close);
    browser.once("close", () => {
      forget();
      upstream.destroy();
    });
    upstream.once("close", () => browser.destroy());
    browser.on("error", close);
    upstream.on("error", close);
    browser.setTimeout(UPGRADE_IDLE_MS, close);
    upstream.write(requestHead(req, headersToApp(req.headers, { ...forwarded, appPort: admitted.port }, true)));
    if (head.length) upstream.write(head);
    browser.pipe(upstream);
    carryAnswerHead(upstream, browser, close);
  }

  /** Ends every exchange (Pier is stopping). */
  closeAll(): void {
    for (const close of [...this.open]) close();
  }

  /** Keeps `close` for the access rules (HoldOpen) and for closeAll; what forgets it in both. */
  private hold(admitted: Admitted, close: () => void): () => void {
    this.open.add(close);
    const release = this.deps.holdOpen(admitted, close);
    return () => {
      this.open.delete(close);
      release();
    };
  }
}

/** The answer's head as the browser is to read it, which closes the connection after the answer. */
function answerHead(answer: IncomingMessage, headers: ReturnType<typeof headersToBrowser>): Buffer {
  const lines = [`HTTP/1.1 ${answer.statusCode} ${answer.statusMessage ?? ""}`];
  for (const [name, value] of Object.entries(headers)) {
    for (const one of Array.isArray(value) ? value : [value]) if (one !== undefined) lines.push(`${name}: ${one}`);
  }
  lines.push("connection: close");
  return Buffer.from(`${lines.join("\r\n")}\r\n\r\n`, "latin1");
}

/** A request head as the app is to read it. Its values came through node's parser, which refuses line breaks in them. */
function requestHead(req: IncomingMessage, headers: ReturnType<typeof headersToApp>): string {
  const lines = [`${req.method} ${req.url} HTTP/1.1`];
  for (const [name, value] of Object.entries(headers)) {
    for (const one of Array.isArray(value) ? value : [value]) if (one !== undefined) lines.push(`${name}: ${one}`);
  }
  return `${lines.join("\r\n")}\r\n\r\n`;
}

/**
 * Reads the app's answer head from `upstream` and writes it to the browser without Set-Cookie
 * lines of Pier's cookie, then splices the rest of the stream through untouched. A head longer
 * than MAX_APP_HEAD closes both.
 */
function carryAnswerHead(upstream: Socket, browser: Socket, close: () => void): void {
  let held = Buffer.alloc(0);
  const onData = (chunk: Buffer) => {
    held = Buffer.concat([held, chunk]);
    const end = held.indexOf("\r\n\r\n");
    if (end < 0) {
      if (held.length > MAX_APP_HEAD) close();
      return;
    }
    upstream.off("data", onData);
    upstream.pause();
    const lines = held.subarray(0, end).toString("latin1").split("\r\n");
    const kept = lines.filter((line, i) => i === 0 || !/^set-cookie:/i.test(line) || !namesPierCookie(line.slice(line.indexOf(":") + 1)));
    browser.write(Buffer.from(`${kept.join("\r\n")}\r\n\r\n`, "latin1"));
    const rest = held.subarray(end + 4);
    if (rest.length) browser.write(rest);
    upstream.pipe(browser);
  };
  upstream.on("data", onData);
  // Dialled streams come paused, and a "data" listener alone does not set a paused stream going.
  upstream.resume();
}
