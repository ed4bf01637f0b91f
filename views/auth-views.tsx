import { Field, FormError, type FormState, HxForm } from "./components.tsx";
import { Layout } from "./layout.tsx";

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

/** The sign-in page; `next`: the page of Pier's to go to once signed in (checked, see nextAfterSignIn). */
export function LoginPage(props: { form: FormState; next: string }) {
  return (
    <Layout title="Sign in">
      <section class="card card-narrow">
        <h1>Sign in</h1>
        <HxForm action="/login" label="Sign in">
          <FormError form={props.form} />
          {props.next === "/" ? "" : <input type="hidden" name="next" value={props.next} />}
          <Field form={props.form} name="username" label="Username" required autocomplete="username" />
          <Field form={props.form} name="password" label="Password" type="password" required secret
            autocomplete="current-password" />
          <button type="submit" class="primary">Sign in</button>
        </HxForm>
      </section>
    </Layout>
  );
}
