import type { Server } from "bun";
import { Gateway } from "../../gateway/gateway.ts";
import type { Pier } from "../../pier.ts";

/**
 * Pier's model gateway for pods (/api/gateway/anthropic/…), taken in the request hook before
 * Pier's own body limit and parsers: its bodies are larger (src/gateway sets their limit), are
 * passed on as they came, and its answers stream back as they arrive. Undefined for any other path.
 */
export function gatewayRequest(pier: Pier, request: Request, server: Server<unknown> | null): Promise<Response> | undefined {
  if (!Gateway.handles(new URL(request.url).pathname)) return undefined;
  // A model can think for minutes before its first byte: Bun's idle timeout must not cut it.
  server?.timeout(request, 0);
  return pier.gateway.handle(request);
}
