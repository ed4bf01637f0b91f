import type { AuditLog } from "../audit/audit-log.ts";
import type { Db } from "../infra/db.ts";
import type { Actor } from "./actor.ts";
import type { CredentialSockets } from "./credential-sockets.ts";
import { type ApiToken, type NewTokenInput, authenticateApiToken, createApiToken, listApiTokens, revokeApiToken } from "./tokens.ts";
import type { User } from "./user.ts";

/**
 * The API tokens' door for the web layer: the token functions, bound to the database and the
 * sockets a revocation closes. Making and revoking one goes in the audit log (its name, never the token).
 */
export class ApiTokens {
  constructor(private readonly parts: { db: Db; sockets: CredentialSockets; audit: AuditLog }) {}

  create(actor: Actor, input: NewTokenInput): { token: ApiToken; secret: string } {
    const created = createApiToken(this.parts.db, actor, input);
    this.parts.audit.record(actor, "token_created", { kind: "token", id: created.token.id, name: created.token.name });
    return created;
  }

  list(actor: Actor): ApiToken[] {
    return listApiTokens(this.parts.db, actor);
  }

  revoke(actor: Actor, tokenId: string): void {
    const revoked = revokeApiToken(this.parts.db, this.parts.sockets, actor, tokenId);
    this.parts.audit.record(actor, "token_revoked", { kind: "token", id: revoked.id, name: revoked.name });
  }

  authenticate(secret: string): { user: User; tokenId: string } | null {
    return authenticateApiToken(this.parts.db, secret);
  }
}
