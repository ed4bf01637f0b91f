import type { Db } from "../infra/db.ts";
import type { Actor } from "./actor.ts";
import type { CredentialSockets } from "./credential-sockets.ts";
import { type ApiToken, type NewTokenInput, authenticateApiToken, createApiToken, listApiTokens, revokeApiToken } from "./tokens.ts";
import type { User } from "./user.ts";

/** The API tokens' door for the web layer: the token functions, bound to the database and the sockets a revocation closes. */
export class ApiTokens {
  constructor(private readonly parts: { db: Db; sockets: CredentialSockets }) {}

  create(actor: Actor, input: NewTokenInput): { token: ApiToken; secret: string } {
    return createApiToken(this.parts.db, actor, input);
  }

  list(actor: Actor): ApiToken[] {
    return listApiTokens(this.parts.db, actor);
  }

  revoke(actor: Actor, tokenId: string): void {
    revokeApiToken(this.parts.db, this.parts.sockets, actor, tokenId);
  }

  authenticate(secret: string): { user: User; tokenId: string } | null {
    return authenticateApiToken(this.parts.db, secret);
  }
}
