import type { ServerWebSocket } from "bun";
import type { Pier } from "../pier.ts";
import { requireAuth } from "./auth.ts";

/**
 * Registers a session's terminal or chat socket everywhere it may be closed from: its session's
 * connections (4001 when the session ends) and its credential's (4401 when the token is revoked
 * or its person signs out). `upgrade` is the upgrade request's context, already authorised; Bun
 * opens the socket inside that same synchronous run, so no revocation falls in between.
 * Returns the one call that forgets the socket again.
 */
export function trackSessionSocket(
  pier: Pier,
  upgrade: Parameters<typeof requireAuth>[1],
  sessionId: string,
  socket: ServerWebSocket,
): () => void {
  // A session with no host has ended already (its conversation can still be read): nothing to close it for.
  const forgetSession = pier.hosts.get(sessionId)?.addSocket(socket) ?? (() => {});
  const forgetCredential = pier.credentialSockets.add(requireAuth(pier, upgrade).credential, socket);
  return () => {
    forgetSession();
    forgetCredential();
  };
}
