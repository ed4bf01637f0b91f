import { type Server, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { type JWK, SignJWT, decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair } from "jose";
import Provider, { type KoaContextWithOIDC } from "oidc-provider";

/** What a test account's ID token and userinfo say about them, beside `sub` (its login). */
export type AccountClaims = { preferred_username?: string; email?: string; email_verified?: boolean; groups?: string[]; name?: string };

/**
 * How the next ID token is changed on its way out of the token endpoint, as a broken or hostile
 * provider would send it: its claims changed, and signed by the provider's own key or a stranger's.
 */
export type IdTokenTamper = (claims: Record<string, unknown>) => { claims: Record<string, unknown>; signedBy: "provider" | "stranger" };

/**
 * A real OpenID provider (`oidc-provider`) on 127.0.0.1 with its own signing key, one confidential
 * client (client_secret_basic, code + PKCE) and test accounts: its development sign-in form takes
 * any account's login with any password. Consent is taken as given (a first-party client), as
 * Authelia, Authentik and Keycloak are usually set up for an app of the house.
 */
export interface TestProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Accounts by login (their `sub`); a test may add or change one while the provider runs. */
  accounts: Map<string, AccountClaims>;
  /** The next token answer's ID token is changed so (only the next). */
  tamperNextIdToken(tamper: IdTokenTamper): void;
  close(): Promise<void>;
}

const SCOPE_CLAIMS = {
  openid: ["sub"],
  profile: ["preferred_username", "name"],
  email: ["email", "email_verified"],
  groups: ["groups"],
};

export async function startTestProvider(options: { redirectUris: string[]; accounts: Record<string, AccountClaims>; clientId?: string; clientSecret?: string }): Promise<TestProvider> {
  const clientId = options.clientId ?? "pier-test";
  const clientSecret = options.clientSecret ?? `secret-${crypto.randomUUID()}`;
  const accounts = new Map(Object.entries(options.accounts));
  const signing = await generateKeyPair("RS256", { extractable: true });
  const stranger = await generateKeyPair("RS256", { extractable: true });
  const kid = "test-key";
  const jwk: JWK = { ...(await exportJWK(signing.privateKey)), kid, alg: "RS256", use: "sig" };
  let tamper: IdTokenTamper | null = null;

  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const provider = new Provider(issuer, {
    clients: [{ client_id: clientId, client_secret: clientSecret, redirect_uris: options.redirectUris, grant_types: ["authorization_code"], response_types: ["code"], token_endpoint_auth_method: "client_secret_basic" }],
    jwks: { keys: [jwk] },
    cookies: { keys: [crypto.randomUUID()] },
    claims: SCOPE_CLAIMS,
    scopes: ["openid", "profile", "email", "groups"],
    pkce: { required: () => true },
    ttl: { AuthorizationCode: 60, AccessToken: 600, IdToken: 600, Interaction: 600, Grant: 600, Session: 600 },
    features: { devInteractions: { enabled: true } },
    findAccount: (_ctx, sub) => {
      const claims = accounts.get(sub);
      return claims ? { accountId: sub, claims: () => ({ sub, ...claims }) } : undefined;
    },
    // Consent is taken as given: the grant covers whatever the client asked for.
    loadExistingGrant: async (ctx: KoaContextWithOIDC) => {
      const { oidc } = ctx;
      if (!oidc.client || !oidc.session?.accountId) return undefined;
      const grant = new oidc.provider.Grant({ clientId: oidc.client.clientId, accountId: oidc.session.accountId });
      grant.addOIDCScope(String(oidc.params?.scope ?? "openid"));
      await grant.save();
      return grant;
    },
  });
  // The provider warns at every start that its development forms are on: they are what the tests sign in with.
  provider.on("server_error", (_ctx: unknown, error: Error) => console.error("[test provider]", error));
  const handle = provider.callback();
  server.on("request", (req, res) => {
    if (tamper && req.method === "POST" && req.url?.startsWith("/token")) {
      const change = tamper;
      tamper = null;
      rewriteIdToken(res, async (idToken) => {
        const { claims, signedBy } = change(decodeJwt(idToken) as Record<string, unknown>);
        const key = signedBy === "provider" ? signing.privateKey : stranger.privateKey;
        return new SignJWT(claims).setProtectedHeader({ ...decodeProtectedHeader(idToken), alg: "RS256", kid }).sign(key);
      });
    }
    handle(req, res);
  });

  return {
    issuer,
    clientId,
    clientSecret,
    accounts,
    tamperNextIdToken: (change) => {
      tamper = change;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Holds the token answer back until its ID token has been replaced by `change`'s. */
function rewriteIdToken(res: ServerResponse, change: (idToken: string) => Promise<string>): void {
  const end = res.end.bind(res) as (body?: unknown) => ServerResponse;
  res.end = ((body?: unknown) => {
    const text = typeof body === "string" ? body : Buffer.isBuffer(body) ? body.toString("utf8") : "";
    let answer: { id_token?: string };
    try {
      answer = JSON.parse(text);
    } catch {
      return end(body);
    }
    if (!answer.id_token) return end(body);
    void change(answer.id_token).then((idToken) => {
      const rewritten = JSON.stringify({ ...answer, id_token: idToken });
      res.setHeader("content-length", Buffer.byteLength(rewritten));
      end(rewritten);
    });
    return res;
  }) as typeof res.end;
}

/** A cookie jar for one origin, as a browser keeps it (enough for the provider's and Pier's cookies). */
export class CookieJar {
  private cookies = new Map<string, string>();

  take(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(";");
      const eq = pair!.indexOf("=");
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (/max-age=0\b/i.test(line) || value === "") this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  get(name: string): string | undefined {
    return this.cookies.get(name);
  }

  header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join("; ");
  }
}

/**
 * A person at the provider without a browser: follows the authorization request from `authorizeUrl`,
 * signs in as `login` on the provider's form and returns where the provider sends them back (the
 * client's callback with its code and state), without going there.
 */
export async function signInAtProvider(provider: TestProvider, authorizeUrl: string, login: string): Promise<URL> {
  const jar = new CookieJar();
  let url = new URL(authorizeUrl);
  for (let hops = 0; hops < 10; hops++) {
    if (url.origin !== provider.issuer) return url;
    const response = await fetch(url, { redirect: "manual", headers: { cookie: jar.header() } });
    jar.take(response);
    const location = response.headers.get("location");
    if (location) {
      url = new URL(location, url);
      continue;
    }
    const page = await response.text();
    const action = page.match(/<form[^>]*action="([^"]+)"/)?.[1];
    if (!action || !page.includes('name="login"')) throw new Error(`The provider answered ${response.status} with no sign-in form: ${page.slice(0, 300)}`);
    const form = new URLSearchParams({ prompt: "login", login, password: "any password" });
    const posted = await fetch(new URL(action, url), { method: "POST", redirect: "manual", headers: { cookie: jar.header(), "content-type": "application/x-www-form-urlencoded" }, body: form });
    jar.take(posted);
    const next = posted.headers.get("location");
    if (!next) throw new Error(`The provider's sign-in form answered ${posted.status}: ${(await posted.text()).slice(0, 300)}`);
    url = new URL(next, url);
  }
  throw new Error("The provider kept redirecting.");
}
