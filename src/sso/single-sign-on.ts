import { type Actor, assertAdmin, assertPerson } from "../auth/actor.ts";
import type { Credential } from "../auth/credential-sockets.ts";
import type { LoginLimiter } from "../auth/login-limiter.ts";
import type { SignIns } from "../auth/sign-in-door.ts";
import type { SignInMethod } from "../auth/sign-in-events.ts";
import type { User } from "../auth/user.ts";
import { findUser } from "../auth/users.ts";
import type { AuditLog } from "../audit/audit-log.ts";
import type { AuditTarget } from "../audit/entry.ts";
import type { Db } from "../infra/db.ts";
import { AppError, RateLimited, forbidden, notFound } from "../infra/errors.ts";
import type { EventBus } from "../infra/events.ts";
import type { SecretBox } from "../infra/secret-box.ts";
import type { PlainValues } from "../settings/settings.ts";
import { roleFor, usernameFrom, whyRefused } from "./claims.ts";
import { createFromFirstSignIn, linkIdentity, linkedAt, personOf, unlinkIdentity } from "./identities.ts";
import { OidcClients, type ProviderAnswer, isUnreachable, newChecks } from "./oidc-client.ts";
import { type NewProviderInput, ProviderChangesInput } from "./provider-input.ts";
import { type Provider, SsoProviders } from "./providers.ts";
import { assertAnAdminCanSignIn } from "./sign-in-guard.ts";
import { type FlowPurpose, type SignInFlow, SignInFlows } from "./sign-in-flows.ts";

export interface SingleSignOnDeps {
  db: Db;
  box: SecretBox;
  bus: EventBus;
  /** Makes the sign-in (the cookie's) a finished round trip signs the person in with, as a password does. */
  signIns: SignIns;
  /** The login limits password sign-ins are under: callbacks are counted the same way. */
  limiter: LoginLimiter;
  /** Whether password sign-in is on now (the setting). */
  passwordSignIn: () => boolean;
  /** Where providers changed, people made by a first sign-in and identities linked are recorded. */
  audit: AuditLog;
}

/** How a round trip to a provider ended. */
export type Finished =
  | { kind: "signed_in"; user: User; token: string; expiresAt: Date; next: string }
  | { kind: "linked"; next: string }
  | { kind: "refused"; error: AppError; purpose: FlowPurpose["kind"] };

/** A provider on the sign-in page. */
export interface SignInChoice {
  id: string;
  name: string;
}

/** A provider on a person's Tokens page: linked (since when) or not. */
export interface IdentityLink {
  providerId: string;
  providerName: string;
  linkedAt: Date | null;
}

/** Where the callback comes from and with what (the web layer reads them off the request). */
export interface Callback {
  query: URLSearchParams;
  /** The browser's binding cookie, if it sent one. */
  binding: string | null;
  address: string;
  /** The browser's sign-in, when it has one (a link must finish in the sign-in that started it). */
  signedIn: { userId: string; signInId: string } | null;
}

/** Where a round trip begins: the callback address to give the provider, the page to come back to, the browser's binding. */
export interface Start {
  redirectUri: string;
  next: string;
  binding: string;
}

/**
 * Single sign-on through OpenID Connect providers: their configuration, the round trip that signs
 * a person in (the first sign-in of someone allowed makes them a member, or an admin by group), and
 * identities linked from the Tokens page. A finished sign-in is the same sign-in a password makes
 * (the same cookie, sockets closed on sign-out), callbacks are under the same login limits, and
 * each one is announced as "auth.signed_in" or "auth.sign_in_failed". A refused callback creates
 * nothing: no person, no identity, no sign-in.
 */
export class SingleSignOn {
  private providers: SsoProviders;
  private clients = new OidcClients();
  private flows = new SignInFlows();

  constructor(private deps: SingleSignOnDeps) {
    this.providers = new SsoProviders({ db: deps.db, box: deps.box });
  }

  list(actor: Actor): Provider[] {
    assertAdmin(actor);
    return this.providers.list();
  }

  async create(actor: Actor, input: NewProviderInput): Promise<Provider> {
    const provider = await this.providers.create(actor, input);
    this.deps.audit.record(actor, "sso_provider_added", providerTarget(provider), { detail: provider.issuer });
    return provider;
  }

  async update(actor: Actor, id: string, input: ProviderChangesInput): Promise<Provider> {
    const provider = await this.providers.update(actor, id, input);
    this.clients.forget(id);
    // Which fields, never their values (the client secret among them).
    const given = input as Record<string, unknown>;
    const changed = Object.keys(ProviderChangesInput.properties).filter((key) => given[key] !== undefined);
    this.deps.audit.record(actor, "sso_provider_changed", providerTarget(provider), { detail: changed.sort().join(", ") || null });
    return provider;
  }

  remove(actor: Actor, id: string): void {
    const provider = this.providers.get(id);
    this.providers.remove(actor, id, this.deps.passwordSignIn());
    this.clients.forget(id);
    this.deps.audit.record(actor, "sso_provider_removed", providerTarget(provider));
  }

  /** The providers the sign-in page offers (their names and ids only). */
  choices(): SignInChoice[] {
    return this.providers.list().map((provider) => ({ id: provider.id, name: provider.name }));
  }

  /** Where to send a browser to sign in with the provider. */
  async startSignIn(providerId: string, start: Start): Promise<URL> {
    return this.begin(this.providers.get(providerId), start, { kind: "sign_in" });
  }

  /** Where to send a person's browser to link their identity at the provider to them. */
  async startLink(actor: Actor, credential: Credential, providerId: string, start: Start): Promise<URL> {
    assertPerson(actor, "Only the person themself can link an identity, not an agent acting for them.");
    if (credential.kind !== "sign_in") throw forbidden("Linking an identity takes a browser signed in to Pier, not an API token.");
    return this.begin(this.providers.get(providerId), start, { kind: "link", userId: actor.user.id, signInId: credential.id });
  }

  /** The callback: the provider's answer checked, then the person signed in (or made, or their identity linked), or why not. */
  async finish(providerId: string, callback: Callback): Promise<Finished> {
    const provider = this.providers.find(providerId);
    const method: SignInMethod = { kind: "oidc", providerId, providerName: provider?.name ?? providerId };
    const attempt = this.deps.limiter.begin(`sso:${providerId}`, callback.address);
    if ("retryAfter" in attempt) {
      const wait = attempt.retryAfter;
      return this.refused(new RateLimited(wait, `Too many failed sign-ins; try again in ${Math.ceil(wait / 60)} minute(s).`), "sign_in", method, callback, null);
    }
    const refuse = (error: AppError, purpose: FlowPurpose["kind"], username: string | null = null): Finished => {
      if (isUnreachable(error)) attempt.abandoned();
      else attempt.failed();
      return this.refused(error, purpose, method, callback, username);
    };
    const state = callback.query.get("state");
    const flow = state ? this.flows.take(state, callback.binding) : null;
    if (!provider) return refuse(notFound("sign-in provider"), flow?.purpose.kind ?? "sign_in");
    if (!flow || flow.providerId !== providerId) {
      return refuse(
        new AppError(400, "sign_in_unknown", "This sign-in was not started in this browser, was finished already or has expired: start again from the sign-in page."),
        "sign_in",
      );
    }
    let answer: ProviderAnswer;
    try {
      answer = await this.clients.finish(await this.providers.endpoint(provider), callback.query, flow);
    } catch (error) {
      if (error instanceof AppError) return refuse(error, flow.purpose.kind);
      attempt.abandoned();
      throw error;
    }
    const known = personOf(this.deps.db, provider.id, answer.subject);
    const derived = usernameFrom(provider, answer.claims);
    const username = known?.username ?? ("username" in derived ? derived.username : null);
    const outside = whyRefused(provider, answer.claims);
    if (outside) return refuse(new AppError(403, "not_allowed", outside), flow.purpose.kind, username);

    if (flow.purpose.kind === "link") {
      const { userId, signInId } = flow.purpose;
      if (callback.signedIn?.userId !== userId || callback.signedIn.signInId !== signInId) {
        return refuse(forbidden("The sign-in that started this link is not this browser's any more: sign in to Pier and link again."), "link", username);
      }
      try {
        linkIdentity(this.deps.db, { providerId: provider.id, subject: answer.subject, userId }, provider.name);
      } catch (error) {
        if (error instanceof AppError) return refuse(error, "link", username);
        throw error;
      }
      attempt.succeeded();
      this.deps.audit.record({ kind: "person", id: userId, name: findUser(this.deps.db, userId)?.username ?? null }, "identity_linked", providerTarget(provider), {
        address: callback.address,
      });
      return { kind: "linked", next: flow.next };
    }

    let user = known;
    if (!user) {
      if ("problem" in derived) return refuse(new AppError(400, "no_username", derived.problem), "sign_in");
      user = createFromFirstSignIn(this.deps.db, { providerId: provider.id, subject: answer.subject }, derived.username, roleFor(provider, answer.claims));
      if (!user) {
        const taken = `A person named "${derived.username}" has an account on this Pier already: sign in as them and link your ${provider.name} account on the Tokens page, or ask an admin.`;
        return refuse(new AppError(409, "username_taken", taken), "sign_in", derived.username);
      }
      this.deps.audit.record({ kind: "person", id: user.id, name: user.username }, "user_created", { kind: "user", id: user.id, name: user.username }, {
        detail: `by a first sign-in with ${provider.name}, as ${user.role}`,
        address: callback.address,
      });
    }
    attempt.succeeded();
    const { token, signIn } = this.deps.signIns.create(user.id);
    this.deps.bus.publish("auth.signed_in", user.id, { userId: user.id, username: user.username, method, address: callback.address });
    return { kind: "signed_in", user, token, expiresAt: signIn.expiresAt, next: flow.next };
  }

  /** Every provider, and whether the actor's identity at it is linked. */
  identities(actor: Actor): IdentityLink[] {
    const linked = linkedAt(this.deps.db, actor.user.id);
    return this.providers.list().map((provider) => ({ providerId: provider.id, providerName: provider.name, linkedAt: linked.get(provider.id) ?? null }));
  }

  /** The person unlinks their identity at a provider, unless that leaves no admin able to sign in. */
  unlink(actor: Actor, providerId: string): void {
    assertPerson(actor, "Only the person themself can unlink an identity, not an agent acting for them.");
    const provider = this.providers.get(providerId);
    assertAnAdminCanSignIn(
      this.deps.db,
      { passwordSignIn: this.deps.passwordSignIn(), withoutIdentity: { userId: actor.user.id, providerId } },
      `Unlinking your ${provider.name} account`,
    );
    if (!unlinkIdentity(this.deps.db, actor.user.id, providerId)) throw new AppError(404, "not_linked", `You have no ${provider.name} account linked.`);
    this.deps.audit.record(actor, "identity_unlinked", providerTarget(provider));
  }

  /** The settings' rule: password sign-in goes off only while some admin can sign in through a provider. */
  keepAnAdmin(next: PlainValues): void {
    if (next.passwordSignIn || !this.deps.passwordSignIn()) return;
    assertAnAdminCanSignIn(this.deps.db, { passwordSignIn: false }, "Turning password sign-in off");
  }

  private async begin(provider: Provider, start: Start, purpose: FlowPurpose): Promise<URL> {
    const checks = newChecks(start.redirectUri);
    const url = await this.clients.authorizationUrl(await this.providers.endpoint(provider), provider.scopes, checks);
    const flow: SignInFlow = { ...checks, providerId: provider.id, purpose, next: start.next };
    this.flows.begin(flow, start.binding);
    return url;
  }

  /**
   * A refused sign-in is announced; not a refused link (the person is signed in already), nor a
   * callback the login limits turned away before any check (it proves nothing, and announcing each
   * would let a stranger fill the audit log as fast as they can send, as for passwords).
   */
  private refused(error: AppError, purpose: FlowPurpose["kind"], method: SignInMethod, callback: Callback, username: string | null): Finished {
    // No topic (the contract's null): the audit log listens to every one.
    if (purpose === "sign_in" && !(error instanceof RateLimited)) {
      this.deps.bus.publish("auth.sign_in_failed", "", { username, method, reason: error.message, address: callback.address });
    }
    return { kind: "refused", error, purpose };
  }
}

/** A provider as the audit log names what was done to it. */
function providerTarget(provider: Provider): AuditTarget {
  return { kind: "sso_provider", id: provider.id, name: provider.name };
}
