import * as oidc from "openid-client";
import { AppError } from "../infra/errors.ts";
import type { Claims } from "./claims.ts";
import { isLoopbackIssuer } from "./provider-input.ts";

/** What Pier needs of a provider to talk to it: the secret opened, and a revision that changes with every edit. */
export interface ProviderEndpoint {
  id: string;
  name: string;
  issuer: string;
  clientId: string;
  clientSecret: string;
  revision: number;
}

/** One authorization request's secrets, kept server-side between the redirect and the callback. */
export interface AuthorizationChecks {
  redirectUri: string;
  state: string;
  nonce: string;
  codeVerifier: string;
}

/** Who the provider says signed in: the ID token's subject, and its claims completed by the userinfo endpoint's. */
export interface ProviderAnswer {
  subject: string;
  claims: Claims;
}

/** Fresh state, nonce and PKCE verifier for one authorization request (openid-client's own randomness). */
export function newChecks(redirectUri: string): AuthorizationChecks {
  return { redirectUri, state: oidc.randomState(), nonce: oidc.randomNonce(), codeVerifier: oidc.randomPKCECodeVerifier() };
}

/** Seconds Pier waits for a provider's answer. */
const TIMEOUT_SECONDS = 10;
/** A provider's metadata is fetched again after this long (its endpoints or keys may have moved). */
const REDISCOVER_MS = 60 * 60 * 1000;

/**
 * The boundary with identity providers, all of it through `openid-client`: discovery (the issuer
 * in the metadata must be the configured one), the authorization URL (code flow, PKCE S256, state,
 * nonce), and the callback (state and the RFC 9207 issuer checked, the code exchanged with the
 * client secret over HTTP Basic, the ID token's signature (against the provider's published keys),
 * issuer, audience, expiry and nonce checked, then the userinfo endpoint asked with the subject checked). Nothing here is hand-written
 * protocol; its failures become sentences a person can read.
 */
export class OidcClients {
  private known = new Map<string, { revision: number; at: number; config: Promise<oidc.Configuration> }>();

  async authorizationUrl(provider: ProviderEndpoint, scopes: readonly string[], checks: AuthorizationChecks): Promise<URL> {
    const config = await this.configuration(provider);
    return oidc.buildAuthorizationUrl(config, {
      redirect_uri: checks.redirectUri,
      scope: scopes.join(" "),
      state: checks.state,
      nonce: checks.nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(checks.codeVerifier),
      code_challenge_method: "S256",
    });
  }

  /** The provider's answer at the callback (`query`: the callback's query), checked against the request's own checks. */
  async finish(provider: ProviderEndpoint, query: URLSearchParams, checks: AuthorizationChecks): Promise<ProviderAnswer> {
    const config = await this.configuration(provider);
    try {
      // The address the provider sent the person back to is the one the request named, wherever Pier's own URL differs (a proxy).
      const callback = new URL(checks.redirectUri);
      callback.search = query.toString();
      const tokens = await oidc.authorizationCodeGrant(config, callback, {
        pkceCodeVerifier: checks.codeVerifier,
        expectedState: checks.state,
        expectedNonce: checks.nonce,
        idTokenExpected: true,
      });
      const idToken = tokens.claims()!;
      const info = config.serverMetadata().userinfo_endpoint ? await oidc.fetchUserInfo(config, tokens.access_token, idToken.sub) : {};
      return { subject: idToken.sub, claims: { ...info, ...idToken } };
    } catch (error) {
      throw refusalOf(error, provider);
    }
  }

  /** The provider changed or went: its metadata is fetched again at its next use. */
  forget(providerId: string): void {
    this.known.delete(providerId);
  }

  private async configuration(provider: ProviderEndpoint): Promise<oidc.Configuration> {
    const known = this.known.get(provider.id);
    if (known && known.revision === provider.revision && Date.now() - known.at < REDISCOVER_MS) return known.config;
    const config = oidc.discovery(new URL(provider.issuer), provider.clientId, undefined, oidc.ClientSecretBasic(provider.clientSecret), {
      timeout: TIMEOUT_SECONDS,
      // The ID token's signature is checked with the provider's published keys (the protocol lets a client skip that for a
      // token fetched over TLS; Pier does not).
      execute: [oidc.enableNonRepudiationChecks, ...(isLoopbackIssuer(provider.issuer) ? [oidc.allowInsecureRequests] : [])],
    });
    const entry = { revision: provider.revision, at: Date.now(), config };
    this.known.set(provider.id, entry);
    try {
      return await config;
    } catch (error) {
      if (this.known.get(provider.id) === entry) this.known.delete(provider.id);
      throw refusalOf(error, provider);
    }
  }
}

/** A provider Pier could not reach, or that answered nothing it could read: not the person's doing. */
export function isUnreachable(error: AppError): boolean {
  return error.code === "provider_unreachable";
}

/** What went wrong with a provider's answer, as a sentence (the error's own words where no plainer ones fit). */
function refusalOf(error: unknown, provider: ProviderEndpoint): AppError {
  if (error instanceof AppError) return error;
  const name = provider.name;
  const refused = (message: string, code = "sso_refused", status = 401) => new AppError(status, code, message);
  if (error instanceof oidc.AuthorizationResponseError) {
    return refused(`${name} did not sign you in: ${error.error_description ?? error.error}.`, "provider_refused", 403);
  }
  if (error instanceof oidc.ResponseBodyError) {
    if (error.error === "invalid_grant") return refused(`${name} refused the sign-in code: it was used already, has expired or belongs to another sign-in. Start again from the sign-in page.`, "code_refused", 400);
    if (error.error === "invalid_client") return refused(`${name} refused Pier's client id or secret; an admin should check them.`, "client_refused", 502);
    return refused(`${name} refused Pier's request: ${error.error_description ?? error.error}.`, "provider_refused", 502);
  }
  const inner = error instanceof oidc.ClientError && error.cause instanceof Error ? error.cause : error;
  const code = (error as { code?: string }).code;
  const claim = (inner as { cause?: { claim?: string } }).cause?.claim;
  switch (code) {
    case "OAUTH_JWT_TIMESTAMP_CHECK_FAILED":
      return refused(`The ID token from ${name} has expired or is not valid yet: sign in again (if this repeats, compare the clocks of Pier and ${name}).`, "id_token_expired");
    case "OAUTH_JWT_CLAIM_COMPARISON_FAILED":
      if (claim === "iss") return refused(`The ID token names an issuer other than ${provider.issuer}: refused.`, "issuer_mismatch");
      if (claim === "nonce") return refused("The ID token was not issued for this sign-in (its nonce does not match): refused.", "nonce_mismatch");
      if (claim === "aud" || claim === "azp") return refused(`The ID token was issued for another client than Pier's at ${name}: refused.`, "audience_mismatch");
      return refused(`The ID token from ${name} was refused: ${errorText(inner)}.`);
    case "OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED":
      return refused(`${name} answers as an issuer other than ${provider.issuer} (an admin should check the issuer URL): refused.`, "issuer_mismatch");
    case "OAUTH_KEY_SELECTION_FAILED":
      return refused(`The ID token is signed with a key ${name} does not publish: refused.`, "bad_signature");
    case "OAUTH_INVALID_RESPONSE":
      if (/signature/i.test(errorText(inner))) return refused(`The ID token's signature does not verify with ${name}'s keys: refused.`, "bad_signature");
      return refused(`${name}'s answer was refused: ${errorText(inner)}.`);
    case "OAUTH_RESPONSE_IS_NOT_CONFORM":
    case "OAUTH_RESPONSE_IS_NOT_JSON":
    case "OAUTH_TIMEOUT":
    case "OAUTH_ABORT":
      return unreachable(provider, errorText(error));
  }
  if (error instanceof TypeError || error instanceof DOMException) return unreachable(provider, errorText(error));
  return refused(`${name}'s answer was refused: ${errorText(inner)}.`);
}

function unreachable(provider: ProviderEndpoint, why: string): AppError {
  return new AppError(502, "provider_unreachable", `Pier could not get an answer from ${provider.name} at ${provider.issuer} (${why}); try again later.`);
}

function errorText(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(/\.$/, "");
}
