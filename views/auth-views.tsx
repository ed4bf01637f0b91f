import type { SignInChoice } from "../src/sso/single-sign-on.ts";
import { Field, FormError, type FormState, HxForm } from "./components.tsx";
import { Layout } from "./layout.tsx";
import { SignInWith } from "./sso-views.tsx";

export function SetupPage(props: { form: FormState }) {
  return (
    <Layout title="Set up">
      <section class="card card-narrow">
        <h1>Welcome to Pier</h1>
        <p>Create the first account. It will be the administrator of this Pier.</p>
        <HxForm action="/setup" label="Create the admin account">
          <FormError form={props.form} />
          <Field form={props.form} name="username" label="Username" required autocomplete="username"
            hint="Lowercase letters, digits, - or _. It appears in branch names." />
          <Field form={props.form} name="password" label="Password" type="password" required secret
            autocomplete="new-password" hint="At least 8 characters." />
          <button type="submit" class="primary">Create admin account</button>
        </HxForm>
      </section>
    </Layout>
  );
}

/**
 * The sign-in page; `next`: the page of Pier's to go to once signed in (checked, see nextAfterSignIn).
 * A button per identity provider, and the password form unless an admin turned password sign-in off.
 */
export function LoginPage(props: { form: FormState; next: string; providers: SignInChoice[]; passwordSignIn: boolean }) {
  return (
    <Layout title="Sign in">
      <section class="card card-narrow">
        <h1>Sign in</h1>
        {props.passwordSignIn ? "" : <FormError form={props.form} />}
        <SignInWith providers={props.providers} next={props.next} />
        {props.passwordSignIn ? (
          <HxForm action="/login" label="Sign in">
            <FormError form={props.form} />
            {props.next === "/" ? "" : <input type="hidden" name="next" value={props.next} />}
            <Field form={props.form} name="username" label="Username" required autocomplete="username" />
            <Field form={props.form} name="password" label="Password" type="password" required secret
              autocomplete="current-password" />
            <button type="submit" class="primary">Sign in</button>
          </HxForm>
        ) : (
          ""
        )}
      </section>
    </Layout>
  );
}
