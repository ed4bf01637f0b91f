import type { Repo } from "../src/repos/repos.ts";
import type { PublicFiring, PublicTrigger } from "../src/triggers/triggers.ts";
import { ENGINE_CHOICES, Field, FormError, type FormState, HxForm, SelectField, TextArea, formatDate } from "./components.tsx";
import { Layout, type Viewer } from "./layout.tsx";
import { SettingsNav } from "./settings-nav.tsx";

interface PageProps {
  viewer: Viewer;
  runtime: "docker" | "local";
}

const KIND_CHOICES: Array<[string, string]> = [
  ["schedule", "Schedule (cron)"],
  ["github_issue", "GitHub issue (label or mention)"],
  ["webhook", "Webhook (POST with its secret)"],
];
const KIND_LABEL = Object.fromEntries(KIND_CHOICES.map(([kind, label]) => [kind, label.split(" (")[0]!]));

/** A trigger's settings as its form shows them: logins one per line, numbers as text, the checkbox as "1". */
export function triggerFormValues(trigger: PublicTrigger): Record<string, string> {
  const text = (value: string | number | null) => (value === null ? "" : String(value));
  return {
    kind: trigger.kind,
    name: trigger.name,
    repoId: trigger.repoId,
    promptTemplate: trigger.promptTemplate,
    cron: text(trigger.cron),
    label: text(trigger.label),
    mention: text(trigger.mention),
    allowedLogins: trigger.allowedLogins.join("\n"),
    engine: text(trigger.engine),
    model: text(trigger.model),
    budgetUsd: text(trigger.budgetUsd),
    dailyBudgetUsd: text(trigger.dailyBudgetUsd),
    maxConcurrent: text(trigger.maxConcurrent),
    enabled: trigger.enabled ? "1" : "0",
  };
}

/** Settings → Automation: your triggers (an admin's: everyone's), a webhook's secret once, and a form to add one. */
export function AutomationPage(props: PageProps & { triggers: PublicTrigger[]; repos: Repo[]; form: FormState; created?: { trigger: PublicTrigger; secret: string; fireUrl: string }; notice?: string }) {
  const repoName = new Map(props.repos.map((repo) => [repo.id, repo.name]));
  const form = { ...props.form, values: { enabled: "1", kind: "schedule", ...props.form.values } };
  return (
    <Layout title="Automation" viewer={props.viewer} runtime={props.runtime} current="/settings">
      <SettingsNav viewer={props.viewer} current="/settings/automation" />
      <h1>Automation</h1>
      <p class="muted">
        Triggers start unattended runs: a task made from the prompt template, worked on by an agent in its own session,
        up to a pull request. A run acts as the trigger's owner, within its budget. What a webhook or a GitHub issue
        brings reaches the agent as quoted text it reads as data, never as your words.
      </p>
      {props.notice ? (
        <p class="notice" role="status" safe>
          {props.notice}
        </p>
      ) : (
        ""
      )}
      {props.created ? <SecretOnce heading={`Trigger "${props.created.trigger.name}" made`} secret={props.created.secret} fireUrl={props.created.fireUrl} /> : ""}
      <section class="card">
        <h2>Triggers</h2>
        {props.triggers.length === 0 ? (
          <p class="empty">No triggers yet.</p>
        ) : (
          <ul class="list" aria-label="Triggers">
            {props.triggers.map((trigger) => (
              <li class="list-row" data-trigger={trigger.id}>
                <a href={`/settings/automation/${trigger.id}`} class="list-title" safe>
                  {trigger.name}
                </a>
                <span class="pill" safe>
                  {KIND_LABEL[trigger.kind] ?? trigger.kind}
                </span>
                <span class="muted" safe>
                  {[repoName.get(trigger.repoId) ?? "a repository", trigger.cron, trigger.label ? `label ${trigger.label}` : null, trigger.enabled ? null : "off"].filter(Boolean).join(" · ")}
                </span>
              </li>
            ))}
          </ul>
        )}
      </section>
      <section class="card" id="new">
        <h2>Add a trigger</h2>
        <HxForm action="/settings/automation" label="Add a trigger" class="grid-form">
          <FormError form={form} />
          <SelectField form={form} name="kind" label="Kind" options={KIND_CHOICES} />
          <SelectField form={form} name="repoId" label="Repository" options={props.repos.map((repo): [string, string] => [repo.id, repo.name])} />
          <TriggerFields form={form} />
          <button type="submit" class="primary">Add trigger</button>
        </HxForm>
      </section>
    </Layout>
  );
}

/** A webhook trigger's secret, the one time Pier can show it, with the command that fires it. */
function SecretOnce(props: { heading: string; secret: string; fireUrl: string }) {
  return (
    <section class="card card-highlight" aria-label="New webhook secret">
      <h2 safe>{props.heading}</h2>
      <p>Copy its secret now: Pier keeps only a hash and cannot show it again. Fire it with:</p>
      <pre class="mono fire-example" safe>{`curl -X POST ${props.fireUrl} \\\n  -H 'Authorization: Bearer ${props.secret}' \\\n  -H 'Content-Type: application/json' -d '{"a": {"b": "…"}}'`}</pre>
      <div class="copy-row">
        <code class="mono wrap" id="new-secret" safe>
          {props.secret}
        </code>
        <button type="button" data-copy="#new-secret">
          Copy
        </button>
      </div>
    </section>
  );
}

/** One trigger: its form, its firings, its removal; a webhook's, a new secret (shown once, when just made). */
export function TriggerPage(props: PageProps & { trigger: PublicTrigger; repo: Repo | null; form: FormState; firings: PublicFiring[]; fireUrl: string; newSecret?: string }) {
  const { trigger } = props;
  // lastFiredAt is a schedule's own bookkeeping; a webhook or an issue fires it too, and its firings say when.
  const lastFired = props.firings[0]?.at ?? trigger.lastFiredAt;
  return (
    <Layout title={`Trigger ${trigger.name}`} viewer={props.viewer} runtime={props.runtime} current="/settings">
      <p class="crumbs">
        <a href="/settings/automation">Automation</a> /
      </p>
      <h1 safe>{trigger.name}</h1>
      <p class="muted" safe>
        {`${KIND_LABEL[trigger.kind] ?? trigger.kind} trigger on ${props.repo?.name ?? "a repository"}` +
          (lastFired ? `, last fired ${formatDate(new Date(lastFired))}.` : ", not fired yet.")}
      </p>
      {props.newSecret ? <SecretOnce heading="New secret" secret={props.newSecret} fireUrl={props.fireUrl} /> : ""}
      {trigger.kind === "webhook" ? (
        <section class="card" aria-label="Firing it">
          <p>
            Fire it with <code class="wrap" safe>{`POST ${props.fireUrl}`}</code> and its secret as <code>Authorization: Bearer …</code>; the JSON body fills
            the template's <code>{"{{payload…}}"}</code>. Lost the secret, or shown it to someone it was not for? Replace it: the old one stops working at once.
          </p>
          <HxForm action={`/settings/automation/${trigger.id}/secret`} label="Replace the secret"
            confirm="Make a new secret? The old one stops working at once: whatever fires this trigger needs the new one.">
            <button type="submit">Replace the secret</button>
          </HxForm>
        </section>
      ) : (
        ""
      )}
      <section class="card">
        <HxForm action={`/settings/automation/${trigger.id}`} label="Trigger settings" class="grid-form">
          <FormError form={props.form} />
          <input type="hidden" name="kind" value={trigger.kind} />
          <TriggerFields form={props.form} kind={trigger.kind} />
          <button type="submit" class="primary">Save</button>
        </HxForm>
      </section>
      <section class="card">
        <h2>Firings</h2>
        {props.firings.length === 0 ? (
          <p class="empty">It has not fired yet.</p>
        ) : (
          <ul class="list" aria-label="Firings">
            {props.firings.map((firing) => (
              <li class="list-row" data-outcome={firing.outcome}>
                <span class="muted" safe>
                  {formatDate(new Date(firing.at))}
                </span>
                <span class={firing.outcome === "started" ? "pill" : "pill pill-failed"}>{firing.outcome === "started" ? "started" : "refused"}</span>
                <span safe>{[firing.issueNumber ? `issue #${firing.issueNumber}` : null, firing.reason].filter(Boolean).join(": ")}</span>
                {firing.runId ? (
                  <span class="muted mono" safe>
                    {`run ${firing.runId}`}
                  </span>
                ) : (
                  ""
                )}
              </li>
            ))}
          </ul>
        )}
      </section>
      <HxForm action={`/settings/automation/${trigger.id}/delete`} label="Remove trigger" confirm={`Remove the trigger ${trigger.name}? Runs it started go on.`}>
        <button type="submit" class="danger">Remove trigger</button>
      </HxForm>
    </Layout>
  );
}

/** The fields adding and editing share; on a trigger's own page, only those its kind uses. */
function TriggerFields(props: { form: FormState; kind?: string }) {
  const { form, kind } = props;
  const shows = (wanted: string) => kind === undefined || kind === wanted;
  return (
    <>
      <Field form={form} name="name" label="Name" required placeholder="Nightly dependency bump" />
      <TextArea form={form} name="promptTemplate" label="Prompt template" rows={5} required
        hint="What the agent is asked to do. A webhook's {{payload.a.b}} and an issue's {{issue.title}}, {{issue.body}}, {{issue.url}} are filled in as quoted text." />
      {shows("schedule") ? (
        <Field form={form} name="cron" label="Schedule (cron)" placeholder="0 9 * * 1"
          hint="Schedule triggers: 5 fields, or 6 with seconds first, in the server's time zone. Times missed while Pier was down fire once at start." />
      ) : (
        ""
      )}
      {shows("github_issue") ? (
        <>
          <Field form={form} name="label" label="Issue label" placeholder="pier"
            hint="GitHub issue triggers: an issue labelled with it starts a run. Needs the GitHub webhook (issues, issue comments) pointed at Pier." />
          <Field form={form} name="mention" label="Mention" placeholder="@pier" hint="A new comment mentioning it starts a run, from an allowed login only." />
          <TextArea form={form} name="allowedLogins" label="Allowed GitHub logins" rows={3} placeholder={"octocat\nhubot"}
            hint="One per line: whose comments may start runs. Others start nothing; their asking is recorded." />
        </>
      ) : (
        ""
      )}
      <SelectField form={form} name="engine" label="Engine" options={[["", "The default"], ...ENGINE_CHOICES]} />
      <Field form={form} name="model" label="Model" placeholder="The default" />
      <Field form={form} name="budgetUsd" label="Budget per run (USD)" placeholder="5" hint="Empty: the instance's budget per run." />
      <Field form={form} name="dailyBudgetUsd" label="Budget per day (USD)" placeholder="20"
        hint="Over any 24 hours, what its runs spent or may still spend. A firing that does not fit is refused." />
      <Field form={form} name="maxConcurrent" label="Runs at once" type="number" hint="Empty: no limit of its own. A firing beyond it is refused." />
      <label class="check">
        <input type="checkbox" name="enabled" value="1" checked={form.values.enabled === "1"} /> Enabled
      </label>
    </>
  );
}
