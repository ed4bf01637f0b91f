import type { Server } from "bun";
import { MirrorHttp } from "../../mirror-http/mirror-http.ts";
import type { Pier } from "../../pier.ts";
import { requestAddress } from "../request-address.ts";

/**
 * Repos' mirrors over git's smart HTTP for pods (/git/<repo id>.git), taken in the request hook
 * before Pier's own body limit, parsers and cookie: its bodies stream to git as they come (see
 * src/mirror-http), and nothing but a pod's own credential is read. Undefined for any other path.
 */
export function mirrorRequest(pier: Pier, request: Request, server: Server<unknown> | null): Promise<Response> | undefined {
  if (!MirrorHttp.handles(new URL(request.url).pathname)) return undefined;
  // A large fetch may count objects for a while before its first byte; the mirror's own time limit bounds it.
  server?.timeout(request, 0);
  return pier.mirrorHttp.handle(request, requestAddress(request) ?? "unknown");
}
