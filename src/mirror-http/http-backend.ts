/**
 * git's own server for its smart HTTP protocol, `git http-backend`, run as the CGI program it is:
 * one process per request, the request's facts in its environment, the body streamed to its
 * stdin and its answer (CGI headers, then the body) streamed back as it comes. Written here rather
 * than taken from a package because a CGI runner is this one function on Bun.spawn, and the
 * packages that exist are for Node's http servers, not for a Fetch Request and Response.
 *
 * Run read-only: receive-pack and the dumb protocol's files are switched off in its config (the
 * caller refuses them before that), hooks go nowhere, and no config of the machine or the server's
 * user is read.
 */

/** What http-backend is told of one request (each becomes a CGI variable). */
export interface BackendRequest {
  method: string;
  /** The path below the project root: `/<repo>.git/info/refs` or `/<repo>.git/git-upload-pack`. */
  pathInfo: string;
  query: string;
  contentType: string | null;
  contentLength: string | null;
  /** git gzips larger request bodies; http-backend inflates them. */
  contentEncoding: string | null;
  /** The Git-Protocol header (version=2), which is how protocol v2 is asked for over HTTP. */
  gitProtocol: string | null;
  remoteUser: string;
  remoteAddr: string;
  body: ReadableStream<Uint8Array> | null;
}

export interface BackendLimits {
  /** The most a request body may hold; past it http-backend is stopped and the request refused. */
  bodyBytes: number;
  /** How long one request may take, body and answer together, before http-backend is stopped. */
  timeoutMs: number;
}

/** The CGI head may not run on forever: git's is a few short lines. */
const MAX_HEAD_BYTES = 16 * 1024;

/** Config for every http-backend: upload-pack only, no dumb protocol, no hooks. */
const READ_ONLY_CONFIG: Array<[string, string]> = [
  ["http.uploadpack", "true"],
  ["http.receivepack", "false"],
  ["http.getanyfile", "false"],
  ["core.hooksPath", "/dev/null"],
];

/** Thrown for a body that passed its limit (the caller answers 413). */
export class BodyTooLarge extends Error {}

/**
 * Runs http-backend for one request under `projectRoot` and answers with what it writes. `ended`
 * is called once the process has exited (whether it finished, was stopped or the client went).
 */
export async function httpBackend(projectRoot: string, request: BackendRequest, limits: BackendLimits, ended: () => void): Promise<Response> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: projectRoot,
    LANG: "C",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_PROJECT_ROOT: projectRoot,
    GIT_HTTP_EXPORT_ALL: "1",
    GATEWAY_INTERFACE: "CGI/1.1",
    REQUEST_METHOD: request.method,
    PATH_INFO: request.pathInfo,
    QUERY_STRING: request.query,
    REMOTE_USER: request.remoteUser,
    REMOTE_ADDR: request.remoteAddr,
    GIT_CONFIG_COUNT: String(READ_ONLY_CONFIG.length),
  };
  READ_ONLY_CONFIG.forEach(([key, value], at) => {
    env[`GIT_CONFIG_KEY_${at}`] = key;
    env[`GIT_CONFIG_VALUE_${at}`] = value;
  });
  if (request.contentType) env.CONTENT_TYPE = request.contentType;
  if (request.contentLength) env.CONTENT_LENGTH = request.contentLength;
  if (request.contentEncoding) env.HTTP_CONTENT_ENCODING = request.contentEncoding;
  if (request.gitProtocol) env.GIT_PROTOCOL = request.gitProtocol;

  const child = Bun.spawn(["git", "http-backend"], {
    cwd: projectRoot,
    env,
    stdin: request.body ? "pipe" : "ignore",
    stdout: "pipe",
    stderr: "pipe",
    timeout: limits.timeoutMs,
    killSignal: "SIGKILL",
  });
  void child.exited.then(ended, ended);
  // Its complaints (a missing repository, a broken pipe) are for its own answer; never left to fill the pipe.
  void new Response(child.stderr).arrayBuffer().catch(() => undefined);
  const fed = request.body ? feed(request.body, child.stdin as import("bun").FileSink, limits.bodyBytes) : Promise.resolve();
  const stop = () => child.kill("SIGKILL");
  fed.catch(stop);

  const stdout = child.stdout.getReader();
  let head: { status: number; headers: Headers; rest: Uint8Array } | null;
  try {
    head = await Promise.race([readHead(stdout), fed.then(() => new Promise<never>(() => {}))]);
  } catch (error) {
    stop();
    throw error;
  }
  if (!head) {
    stop();
    return new Response("Pier's git server gave no answer.\n", { status: 502, headers: { "content-type": "text/plain; charset=utf-8" } });
  }
  const { rest } = head;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      if (rest.byteLength > 0) controller.enqueue(rest);
    },
    async pull(controller) {
      try {
        const { value, done } = await stdout.read();
        if (done) controller.close();
        else controller.enqueue(value);
      } catch (error) {
        controller.error(error);
      }
    },
    cancel() {
      // The client went: nothing is left to answer.
      stop();
    },
  });
  // A body that turns out too long after the answer began ends it there.
  fed.catch((error) => void stdout.cancel(error).catch(() => undefined));
  return new Response(body, { status: head.status, headers: head.headers });
}

/** Copies the request's body to http-backend's stdin, at most `limit` bytes of it; throws BodyTooLarge past that. */
async function feed(body: ReadableStream<Uint8Array>, stdin: import("bun").FileSink, limit: number): Promise<void> {
  let size = 0;
  const reader = body.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > limit) {
        await reader.cancel().catch(() => undefined);
        throw new BodyTooLarge(`The request body passed ${limit} bytes.`);
      }
      stdin.write(value);
      await stdin.flush();
    }
  } finally {
    await Promise.resolve(stdin.end()).catch(() => undefined);
  }
}

/**
 * The CGI head http-backend writes (`Status: 403 Forbidden`, headers, a blank line), and the bytes
 * of body already read with it; null when it ended before a whole head came.
 */
async function readHead(stdout: ReadableStreamDefaultReader<Uint8Array>): Promise<{ status: number; headers: Headers; rest: Uint8Array } | null> {
  let buffered = new Uint8Array(0);
  for (;;) {
    const { value, done } = await stdout.read();
    if (done) return null;
    buffered = Buffer.concat([buffered, value]);
    const text = Buffer.from(buffered).toString("latin1");
    const crlf = text.indexOf("\r\n\r\n");
    const lf = text.indexOf("\n\n");
    const end = crlf >= 0 && (lf < 0 || crlf < lf) ? crlf + 4 : lf >= 0 ? lf + 2 : -1;
    if (end < 0) {
      if (buffered.byteLength > MAX_HEAD_BYTES) return null;
      continue;
    }
    const headers = new Headers();
    let status = 200;
    for (const line of text.slice(0, end).split(/\r?\n/)) {
      const colon = line.indexOf(":");
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim();
      const value = line.slice(colon + 1).trim();
      if (name.toLowerCase() === "status") status = Number.parseInt(value, 10) || 502;
      else headers.append(name, value);
    }
    return { status, headers, rest: buffered.subarray(end) };
  }
}
