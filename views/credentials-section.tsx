import type { PersonalCredentialsView, PersonalKey } from "../src/settings/credentials.ts";
import type { WebhookView } from "../src/attention/webhooks.ts";
import { Field, FormError, type FormState, HxForm } from "./components.tsx";

const CREDENTIALS: Array<{ key: PersonalKey; label: string; about: string }> = [
  { key: "githubToken", label: "GitHub token", about: "Pushes, pull requests and their checks in your sessions go to GitHub as you." },
  { key: "anthropicApiKey", label: "Anthropic API key", about: "Your sessions' chat agent runs on your key." },
  { key: "claudeCodeOauthToken", label: "Claude Code OAuth token", about: "For Claude Code in your sessions (claude setup-token makes one)." },
  { key: "openaiApiKey", label: "OpenAI API key", about: "For agents in your sessions that use OpenAI's models." },
  { key: "geminiApiKey", label: "Gemini API key", about: "For agents in your sessions that use Google's Gemini models." },
];

/**
 * A person's own credentials: write-only like settings (shown masked), each saying whether the
 * one in use is theirs or the instance's. A blank field keeps the saved value; the checkbox removes it.
 */
export function CredentialsSection(props: { credentials: PersonalCredentialsView; form: FormState; saved: boolean }) {
  return (
    <section class="card" id="credentials" aria-labelledby="credentials-heading">
      <h2 id="credentials-heading">Your credentials</h2>
      <p class="muted">Yours take the place of the instance's in your own sessions; nobody else's sessions use them.</p>
      <HxForm action="/tokens/credentials" label="Your credentials" class="grid-form">
        {props.saved ? (
          <p class="notice" role="status">
            Your credentials are saved.
          </p>
        ) : (
          ""
        )}
        <FormError form={props.form} />
        {CREDENTIALS.map(({ key, label, about }) => {
          const credential = props.credentials[key];
          return (
            <div class="secret-field">
              <Field form={props.form} name={key} label={label} type="password" secret autocomplete="off"
                hint={`${about} ${inUse(credential)}`} />
              {credential.source === "yours" ? (
                <label class="check">
                  <input type="checkbox" name={`clear_${key}`} value="1" /> Remove yours
                </label>
              ) : (
                ""
              )}
            </div>
          );
        })}
        <button type="submit" class="primary">Save your credentials</button>
      </HxForm>
    </section>
  );
}

function inUse(credential: PersonalCredentialsView[PersonalKey]): string {
  if (credential.source === "yours") return `In use: yours (${credential.mask}). Leave blank to keep it.`;
  if (credential.set) return "In use: the instance's. Yours would take its place.";
  return "Not set, here or for the instance.";
}

/**
 * Where Pier tells a person that a session needs them while they are away from the browser: a
 * URL it posts a small JSON message to (ntfy, a Slack-style incoming hook, anything that takes a
 * POST). Kept sealed, shown only as its host, like a credential.
 */
export function NotificationsSection(props: { webhook: WebhookView; form: FormState; saved: boolean }) {
  return (
    <section class="card" id="notifications" aria-labelledby="notifications-heading">
      <h2 id="notifications-heading">Notifications</h2>
      <p class="muted">
        When one of your sessions needs you (its agent finished, an approval waits, its terminal rang or went quiet, someone sent its task back with feedback) while you are not looking at it, Pier
        shows it on your pages and, if you allow them, as a notification: in this browser, and on your devices below even with Pier closed. It can also post to a webhook: a JSON message with <code>text</code>,{" "}
        <code>message</code>, <code>title</code> and a link to the session, once each time.
      </p>
      <HxForm action="/tokens/notifications" label="Notifications" class="grid-form">
        {props.saved ? (
          <p class="notice" role="status">
            Saved.
          </p>
        ) : (
          ""
        )}
        <FormError form={props.form} />
        <div class="secret-field">
          <Field form={props.form} name="webhookUrl" label="Webhook URL" type="url" secret autocomplete="off" placeholder="https://ntfy.sh/your-topic"
            hint={props.webhook.set ? `In use: ${props.webhook.mask}. Leave blank to keep it.` : "None: Pier tells you only in the browser."} />
          {props.webhook.set ? (
            <label class="check">
              <input type="checkbox" name="clear_webhookUrl" value="1" /> Remove it
            </label>
          ) : (
            ""
          )}
        </div>
        <button type="submit" class="primary">Save</button>
      </HxForm>
    </section>
  );
}
