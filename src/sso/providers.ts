import { asc, eq } from "drizzle-orm";
import { type Actor, assertAdmin } from "../auth/actor.ts";
import type { Db } from "../infra/db.ts";
import { AppError, invalid, notFound } from "../infra/errors.ts";
import { newId } from "../infra/ids.ts";
import type { SecretBox } from "../infra/secret-box.ts";
import { isSecretText, secretProblem } from "../settings/settings.ts";
import type { ClaimRules } from "./claims.ts";
import type { ProviderEndpoint } from "./oidc-client.ts";
import {
  DEFAULT_SCOPES,
  DEFAULT_USERNAME_CLAIM,
  type NewProviderInput,
  type ProviderChangesInput,
  checkGroupRules,
  checkIssuer,
  withOpenid,
} from "./provider-input.ts";
import { assertAnAdminCanSignIn } from "./sign-in-guard.ts";
import { ssoProviders } from "./tables.ts";

type Row = typeof ssoProviders.$inferSelect;

/** A provider as Pier uses it, its client secret still sealed. */
export interface Provider extends ClaimRules {
  id: string;
  issuer: string;
  clientId: string;
  scopes: string[];
  createdAt: Date;
  updatedAt: Date;
}

/** A provider as the API and pages show it: nothing of its client secret, which is write-only. */
export interface PublicProvider {
  id: string;
  name: string;
  issuer: string;
  clientId: string;
  scopes: string[];
  usernameClaim: string;
  groupsClaim: string | null;
  adminGroup: string | null;
  allowedGroups: string[];
  allowedDomains: string[];
  /** Where the provider sends people back: register Pier's address followed by this at the provider. */
  callbackPath: string;
  createdAt: string;
  updatedAt: string;
}

export function publicProvider(provider: Provider): PublicProvider {
  return {
    id: provider.id,
    name: provider.name,
    issuer: provider.issuer,
    clientId: provider.clientId,
    scopes: provider.scopes,
    usernameClaim: provider.usernameClaim,
    groupsClaim: provider.groupsClaim,
    adminGroup: provider.adminGroup,
    allowedGroups: [...provider.allowedGroups],
    allowedDomains: [...provider.allowedDomains],
    callbackPath: callbackPath(provider.id),
    createdAt: provider.createdAt.toISOString(),
    updatedAt: provider.updatedAt.toISOString(),
  };
}

export function callbackPath(providerId: string): string {
  return `/auth/sso/${providerId}/callback`;
}

/**
 * The identity providers admins configure. The client secret is sealed before it is stored and
 * opened only to talk to the provider; no answer or page carries any of it. Every field is
 * checked before anything is written.
 */
export class SsoProviders {
  constructor(private deps: { db: Db; box: SecretBox }) {}

  list(): Provider[] {
    return this.deps.db.select().from(ssoProviders).orderBy(asc(ssoProviders.name)).all().map(fromRow);
  }

  find(id: string): Provider | null {
    const row = this.deps.db.select().from(ssoProviders).where(eq(ssoProviders.id, id)).get();
    return row ? fromRow(row) : null;
  }

  get(id: string): Provider {
    const provider = this.find(id);
    if (!provider) throw notFound("sign-in provider");
    return provider;
  }

  /** What talking to the provider takes, its secret opened: for the OpenID client only. */
  async endpoint(provider: Provider): Promise<ProviderEndpoint> {
    const row = this.deps.db.select({ clientSecret: ssoProviders.clientSecret }).from(ssoProviders).where(eq(ssoProviders.id, provider.id)).get();
    if (!row) throw notFound("sign-in provider");
    return {
      id: provider.id,
      name: provider.name,
      issuer: provider.issuer,
      clientId: provider.clientId,
      clientSecret: await this.deps.box.open(row.clientSecret),
      revision: provider.updatedAt.getTime(),
    };
  }

  async create(actor: Actor, input: NewProviderInput): Promise<Provider> {
    assertAdmin(actor);
    const issuer = checkIssuer(input.issuer);
    const rules = {
      groupsClaim: input.groupsClaim || null,
      adminGroup: input.adminGroup || null,
      allowedGroups: input.allowedGroups ?? [],
    };
    checkGroupRules(rules);
    const clientSecret = await this.seal(input.clientSecret);
    const now = new Date();
    const row: Row = {
      id: input.id ?? newId(),
      name: input.name,
      issuer,
      clientId: input.clientId,
      clientSecret,
      scopes: withOpenid(input.scopes ?? DEFAULT_SCOPES).join(" "),
      usernameClaim: input.usernameClaim || DEFAULT_USERNAME_CLAIM,
      ...rules,
      allowedGroups: JSON.stringify(rules.allowedGroups),
      allowedDomains: JSON.stringify(input.allowedDomains ?? []),
      createdAt: now,
      updatedAt: now,
    };
    this.deps.db.transaction((tx) => {
      if (tx.select({ id: ssoProviders.id }).from(ssoProviders).where(eq(ssoProviders.id, row.id)).get()) {
        throw new AppError(409, "provider_id_taken", `There is a sign-in provider with the id "${row.id}" already.`, "id");
      }
      tx.insert(ssoProviders).values(row).run();
    });
    return fromRow(row);
  }

  /** Fields left out stay; so does the client secret unless a new one is given. */
  async update(actor: Actor, id: string, input: ProviderChangesInput): Promise<Provider> {
    assertAdmin(actor);
    const current = this.get(id);
    const name = input.name ?? current.name;
    if (name === "") throw invalid("name", "Name is required.");
    const issuer = input.issuer === undefined ? current.issuer : checkIssuer(input.issuer);
    const clientId = input.clientId || current.clientId;
    const rules = {
      groupsClaim: input.groupsClaim === undefined ? current.groupsClaim : input.groupsClaim || null,
      adminGroup: input.adminGroup === undefined ? current.adminGroup : input.adminGroup || null,
      allowedGroups: input.allowedGroups ?? current.allowedGroups,
    };
    checkGroupRules(rules);
    const clientSecret = input.clientSecret ? await this.seal(input.clientSecret) : undefined;
    // Never the same instant as before: the revision tells the OpenID client its metadata is to be fetched again.
    const updatedAt = new Date(Math.max(Date.now(), current.updatedAt.getTime() + 1));
    const changed = this.deps.db
      .update(ssoProviders)
      .set({
        name,
        issuer,
        clientId,
        ...(clientSecret ? { clientSecret } : {}),
        scopes: withOpenid(input.scopes ?? current.scopes).join(" "),
        usernameClaim: input.usernameClaim || current.usernameClaim,
        groupsClaim: rules.groupsClaim,
        adminGroup: rules.adminGroup,
        allowedGroups: JSON.stringify(rules.allowedGroups),
        allowedDomains: JSON.stringify(input.allowedDomains ?? current.allowedDomains),
        updatedAt,
      })
      .where(eq(ssoProviders.id, id))
      .returning()
      .all();
    if (changed.length === 0) throw notFound("sign-in provider");
    return fromRow(changed[0]!);
  }

  /** Removes a provider and every identity linked at it, unless that leaves no admin able to sign in. */
  remove(actor: Actor, id: string, passwordSignIn: boolean): void {
    assertAdmin(actor);
    const provider = this.get(id);
    assertAnAdminCanSignIn(this.deps.db, { passwordSignIn, withoutProvider: id }, `Removing ${provider.name}`);
    this.deps.db.delete(ssoProviders).where(eq(ssoProviders.id, id)).run();
  }

  private async seal(secret: string): Promise<string> {
    if (!isSecretText(secret)) throw invalid("clientSecret", secretProblem("Client secret"));
    return this.deps.box.seal(secret);
  }
}

function fromRow(row: Row): Provider {
  return {
    id: row.id,
    name: row.name,
    issuer: row.issuer,
    clientId: row.clientId,
    scopes: row.scopes.split(" "),
    usernameClaim: row.usernameClaim,
    groupsClaim: row.groupsClaim,
    adminGroup: row.adminGroup,
    allowedGroups: JSON.parse(row.allowedGroups) as string[],
    allowedDomains: JSON.parse(row.allowedDomains) as string[],
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}
