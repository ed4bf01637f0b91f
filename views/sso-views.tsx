import type { IdentityLink, SignInChoice } from "../src/sso/single-sign-on.ts";
import type { PublicProvider } from "../src/sso/providers.ts";
import { Field, FormError, type FormState, HxForm, SelectField, TextArea, formatDate } from "./components.tsx";
import { Layout, type Viewer } from "./layout.tsx";
import { SettingsNav } from "./settings-nav.tsx";

interface PageProps {
  viewer: Viewer;
  runtime: "docker" | "local";
}

const PASSWORD_CHOICES: Array<[string, string]> = [
  ["true", "On: passwords and providers"],
  ["false", "Off: providers only"],
];

/** Where starting a sign-in with the provider goes, carrying the page to come back to. */
export function signInHref(providerId: string, next: string): string {
  return `/auth/sso/${providerId}${next === "/" ? "" : `?next=${encodeURIComponent(next)}`}`;
}

/** The sign-in page's buttons, one per provider. */
export function SignInWith(props: { providers: SignInChoice[]; next: string }) {
  if (props.providers.length === 0) return "";
  return (
    <div class="sso-choices" aria-label="Single sign-on">
      {props.providers.map((provider) => (
        <a class="button" href={signInHref(provider.id, props.next)} safe>
          Sign in with {provider.name}
        </a>
      ))}
    </div>
  );
}

/** A provider's settings as its form shows them: scopes on one line, groups and domains one per line, never the secret. */
export function ssoFormValues(provider: PublicProvider): Record<string, string> {
  return {
    name: provider.name,
    issuer: provider.issuer,
    clientId: provider.clientId,
    scopes: provider.scopes.join(" "),
    usernameClaim: provider.usernameClaim,
    groupsClaim: provider.groupsClaim ?? "",
    adminGroup: provider.adminGroup ?? "",
    allowedGroups: provider.allowedGroups.join("\n"),
    allowedDomains: provider.allowedDomains.join("\n"),
  };
}

/** The providers, a form to add one, and whether passwords still sign in (admins only). */
export function SsoSettingsPage(
  props: PageProps & { providers: PublicProvider[]; origin: string; form: FormState; notice?: string; passwordSignIn: boolean; passwordForm: FormState },
) {
  const passwordForm = { ...props.passwordForm, values: { passwordSignIn: String(props.passwordSignIn), ...props.passwordForm.values } };
  return (
    <Layout title="Single sign-on" viewer={props.viewer} runtime={props.runtime} current="/settings">
      <SettingsNav viewer={props.viewer} current="/settings/sso" />
      <h1>Single sign-on</h1>
      <p class="muted">
        People sign in with an OpenID Connect provider (Authelia, Authentik, Keycloak, Google, …). The first sign-in of someone allowed
        makes them a member, or an admin when they are in the admin group; someone who already has an account links their provider
        account on their Tokens page. Register each provider's callback address at the provider, with the code flow and PKCE.
      </p>
      {props.notice ? (
        <p class="notice" role="status" safe>
          {props.notice}
        </p>
      ) : (
        ""
      )}
      <section class="card">
        <h2>Providers</h2>
        {props.providers.length === 0 ? (
          <p class="empty">No providers yet.</p>
        ) : (
          <ul class="list" aria-label="Sign-in providers">
            {props.providers.map((provider) => (
              <li class="list-row">
                <a class="list-title" href={`/settings/sso/providers/${provider.id}`} safe>
                  {provider.name}
                </a>
                <span class="muted mono wrap" safe>
                  {`${provider.issuer} · callback ${props.origin}${provider.callbackPath}`}
                </span>
              </li>
            ))}
          </ul>
        )}
      </section>
      <section class="card" id="new">
        <h2>Add a provider</h2>
        <HxForm action="/settings/sso" label="Add a sign-in provider" class="grid-form">
          <FormError form={props.form} />
          <Field form={props.form} name="id" label="Id" placeholder="authentik"
            hint={`Lowercase words joined by hyphens; its callback address is ${props.origin}/auth/sso/<id>/callback. Made up when left empty.`} />
          <ProviderFields form={props.form} secretRequired />
          <button type="submit" class="primary">Add provider</button>
        </HxForm>
      </section>
      <section class="card" id="password-sign-in">
        <h2>Password sign-in</h2>
        <HxForm action="/settings/sso/password-sign-in" label="Password sign-in" class="grid-form">
          <FormError form={passwordForm} />
          <SelectField form={passwordForm} name="passwordSignIn" label="Password sign-in" options={PASSWORD_CHOICES}
            hint="Off only while an admin can sign in through a provider (their account linked on the Tokens page). API tokens work either way." />
          <button type="submit" class="primary">Save</button>
        </HxForm>
      </section>
    </Layout>
  );
}

/** One provider's form and its removal (admins only). */
export function SsoProviderPage(props: PageProps & { provider: PublicProvider; origin: string; form: FormState }) {
  const { provider } = props;
  return (
    <Layout title={`Sign-in provider ${provider.name}`} viewer={props.viewer} runtime={props.runtime} current="/settings">
      <p class="crumbs">
        <a href="/settings/sso">Single sign-on</a> /
      </p>
      <h1 safe>{provider.name}</h1>
      <p class="muted">
        Callback address to register at the provider: <code class="wrap" safe>{`${props.origin}${provider.callbackPath}`}</code>
      </p>
      <section class="card">
        <HxForm action={`/settings/sso/providers/${provider.id}`} label="Sign-in provider settings" class="grid-form">
          <FormError form={props.form} />
          <ProviderFields form={props.form} secretRequired={false} />
          <button type="submit" class="primary">Save</button>
        </HxForm>
      </section>
      <HxForm action={`/settings/sso/providers/${provider.id}/delete`} label="Remove sign-in provider"
        confirm={`Remove ${provider.name}? People who sign in only with it can no longer sign in.`}>
        <button type="submit" class="danger">Remove provider</button>
      </HxForm>
    </Layout>
  );
}

/** The fields adding and editing share. The client secret is never shown; left blank when editing, it stays. */
function ProviderFields(props: { form: FormState; secretRequired: boolean }) {
  const { form } = props;
  return (
    <>
      <Field form={form} name="name" label="Name" required placeholder="Authentik" hint='The sign-in page says "Sign in with <name>".' />
      <Field form={form} name="issuer" label="Issuer" required placeholder="https://auth.example.com/application/o/pier/"
        hint="As the provider's /.well-known/openid-configuration names it, exactly. https, except http://127.0.0.1 or http://localhost." />
      <Field form={form} name="clientId" label="Client id" required autocomplete="off" />
      <Field form={form} name="clientSecret" label="Client secret" type="password" secret autocomplete="off" required={props.secretRequired}
        hint={props.secretRequired ? "Stored encrypted, never shown again." : "Saved, never shown. Leave blank to keep it."} />
      <Field form={form} name="scopes" label="Scopes" placeholder="openid profile email"
        hint="Separated by spaces; openid is always asked. Add groups (or what your provider calls it) to read groups." />
      <Field form={form} name="usernameClaim" label="Username claim" placeholder="preferred_username"
        hint="Its value, made lowercase (an email address's part before @), becomes a new person's username." />
      <Field form={form} name="groupsClaim" label="Groups claim" placeholder="groups" hint="The claim listing the person's groups; empty for none." />
      <Field form={form} name="adminGroup" label="Admin group" hint="Its members become admins at their first sign-in; empty for none." />
      <TextArea form={form} name="allowedGroups" label="Allowed groups" rows={3}
        hint="One per line. With allowed groups or domains, only their people may sign in; with neither, everyone the provider signs in." />
      <TextArea form={form} name="allowedDomains" label="Allowed email domains" rows={3} placeholder="example.com"
        hint="One per line: people whose verified email address is at one of them may sign in." />
    </>
  );
}

/** On the Tokens page: the person's accounts at each provider, linked or not. */
export function IdentitiesSection(props: { links: IdentityLink[] }) {
  if (props.links.length === 0) return "";
  return (
    <section class="card" id="sign-in-providers" aria-labelledby="sign-in-providers-heading">
      <h2 id="sign-in-providers-heading">Sign-in providers</h2>
      <p class="muted">Link your account at a provider to sign in to Pier with it.</p>
      <ul class="list" aria-label="Your sign-in providers">
        {props.links.map((link) => (
          <li class="list-row">
            <span class="list-title" safe>
              {link.providerName}
            </span>
            <span class="muted">{link.linkedAt ? `linked ${formatDate(link.linkedAt)}` : "not linked"}</span>
            {link.linkedAt ? (
              <HxForm action={`/tokens/sso/${link.providerId}/unlink`} label={`Unlink ${link.providerName}`}
                confirm={`Unlink your ${link.providerName} account? You can no longer sign in with it.`}>
                <button type="submit" class="small">Unlink</button>
              </HxForm>
            ) : (
              <HxForm action={`/auth/sso/${link.providerId}/link`} label={`Link ${link.providerName}`}>
                <button type="submit" class="small primary">Link</button>
              </HxForm>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}

/**
 * Where a plain form (no JavaScript) to link an account lands: the link to the provider, to follow
 * by hand, since the pages' CSP keeps a form from being sent on to another site.
 */
export function ContinueToProvider(props: PageProps & { providerName: string; url: string }) {
  return (
    <Layout title="Link an account" viewer={props.viewer} runtime={props.runtime} current="/tokens">
      <section class="card card-narrow">
        <h1 safe>Link your {props.providerName} account</h1>
        <p>
          <a class="button primary" href={props.url} safe>
            Continue to {props.providerName}
          </a>
        </p>
      </section>
    </Layout>
  );
}
