/**
 * Git's smart HTTP protocol, answered by git's own `git http-backend` run as a CGI program (as
 * Apache or nginx would run it), so clone, fetch and push have real git at both ends. Bodies are
 * streamed both ways; nothing is buffered whole.
 */

export interface GitHttpRequest {
  /** Directory that holds `<owner>/<name>.git`. */
  projectRoot: string;
  /** The path below the project root, e.g. `/octo/widgets.git/info/refs`. */
  pathInfo: string;
  /** Who authenticated. http-backend accepts a push only when REMOTE_USER is set. */
  remoteUser: string | null;
}

/** Headers a CGI program gets as CONTENT_* rather than HTTP_*, and the one it must never see. */
const NOT_PASSED_AS_HTTP = new Set(["content-type", "content-length", "authorization"]);

export async function serveGitHttp(request: Request, { projectRoot, pathInfo, remoteUser }: GitHttpRequest): Promise<Response> {
  const url = new URL(request.url);
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    // The test user's ~/.gitconfig and /etc/gitconfig stay out of the server side.
    HOME: projectRoot,
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_PROJECT_ROOT: projectRoot,
    GIT_HTTP_EXPORT_ALL: "1",
    GATEWAY_INTERFACE: "CGI/1.1",
    SERVER_PROTOCOL: "HTTP/1.1",
    REQUEST_METHOD: request.method,
    PATH_INFO: pathInfo,
    QUERY_STRING: url.search.slice(1),
    REMOTE_ADDR: "127.0.0.1",
  };
  const contentType = request.headers.get("content-type");
  if (contentType) env.CONTENT_TYPE = contentType;
  // Without CONTENT_LENGTH http-backend reads to end of input, which is what a chunked push needs.
  const contentLength = request.headers.get("content-length");
  if (contentLength) env.CONTENT_LENGTH = contentLength;
  // Git-Protocol (protocol v2) and Content-Encoding (gzip-compressed requests) travel this way.
  for (const [name, value] of request.headers) {
    if (!NOT_PASSED_AS_HTTP.has(name)) env[`HTTP_${name.toUpperCase().replaceAll("-", "_")}`] = value;
  }
  if (remoteUser) env.REMOTE_USER = remoteUser;

  const child = Bun.spawn(["git", "http-backend"], {
    env,
    stdin: request.body ?? "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  // Read from the start so a chatty backend can never block on a full stderr pipe.
  const stderr = new Response(child.stderr).text();

  const reader = child.stdout.getReader();
  const head = await readCgiHead(reader);
  if (!head) {
    return new Response(`fake-github: git http-backend printed no CGI headers: ${(await stderr).trim()}\n`, { status: 502 });
  }

  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      if (head.rest.length > 0) controller.enqueue(head.rest);
    },
    async pull(controller) {
      const { value, done } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel() {
      // The client went away mid-answer: nothing more will be read.
      child.kill();
    },
  });
  return new Response(body, { status: head.status, headers: head.headers });
}

interface CgiHead {
  status: number;
  headers: Headers;
  /** Body bytes that arrived in the same chunks as the headers. */
  rest: Uint8Array;
}

/** Reads the CGI header block (`Status:` plus ordinary headers); null if output ends first. */
async function readCgiHead(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<CgiHead | null> {
  let buffered = Buffer.alloc(0);
  let end = -1;
  while (end < 0) {
    const { value, done } = await reader.read();
    if (done) return null;
    buffered = Buffer.concat([buffered, value]);
    // http-backend ends its header lines with CRLF, and the block with an empty line.
    end = buffered.indexOf("\r\n\r\n");
  }

  const headers = new Headers();
  let status = 200;
  for (const line of buffered.subarray(0, end).toString().split("\r\n")) {
    const colon = line.indexOf(":");
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (name.toLowerCase() === "status") status = Number.parseInt(value, 10);
    else headers.append(name, value);
  }
  return { status, headers, rest: buffered.subarray(end + 4) };
}
