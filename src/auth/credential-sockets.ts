import { CREDENTIAL_ENDED_CODE } from "../infra/close-codes.ts";

/**
 * What a request or socket was let in with: a browser sign-in (its id, the SHA-256 of the
 * cookie's token) or an API token (its id).
 */
export type Credential = { kind: "sign_in" | "api_token"; id: string };

/** A WebSocket let in with a credential: what ending the credential needs of it. */
export interface CredentialSocket {
  sendText(text: string): unknown;
  close(code?: number, reason?: string): void;
}


/**
 * The open WebSockets of each credential. A socket is authorised once, at its upgrade, so when
 * its credential ends (a token revoked, a sign-in signed out) the domain function that ends it
 * tells this registry, which tells each of its sockets why ({"type":"error","message":"…"}) and
 * closes it with 4401. Sockets opened with another credential, even the same person's, stay open.
 */
export class CredentialSockets {
  private open = new Map<string, Set<CredentialSocket>>();

  add(credential: Credential, socket: CredentialSocket): () => void {
    const key = keyOf(credential);
    const set = this.open.get(key) ?? new Set();
    set.add(socket);
    this.open.set(key, set);
    return () => {
      set.delete(socket);
      if (set.size === 0 && this.open.get(key) === set) this.open.delete(key);
    };
  }

  /** The credential no longer exists; `why` is the sentence its sockets are closed with. */
  end(credential: Credential, why: string): void {
    const key = keyOf(credential);
    const sockets = this.open.get(key);
    this.open.delete(key);
    const message = JSON.stringify({ type: "error", message: why });
    for (const socket of sockets ?? []) {
      socket.sendText(message);
      socket.close(CREDENTIAL_ENDED_CODE, "credential ended");
    }
  }
}

function keyOf(credential: Credential): string {
  return `${credential.kind}:${credential.id}`;
}
