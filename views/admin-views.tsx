import { Field, FormError, type FormState, HxForm, formatDate, SelectField, ENGINE_CHOICES } from "./components.tsx";
import type { ApiToken } from "../src/auth/tokens.ts";
import type { User } from "../src/auth/user.ts";
import type { Price } from "../src/costs/price.ts";
import type { PersonalCredentialsView } from "../src/settings/credentials.ts";
import type { MaskedSecret, SettingsView } from "../src/settings/settings.ts";
import { CredentialsSection, NotificationsSection } from "./credentials-section.tsx";
import { PushDevicesSection } from "./push-devices.tsx";
import type { PublicDevice } from "../src/push/subscriptions.ts";
import type { WebhookView } from "../src/attention/webhooks.ts";
import { Layout, type Viewer } from "./layout.tsx";
import { SettingsNav } from "./settings-nav.tsx";
import type { IdentityLink } from "../src/sso/single-sign-on.ts";
import { IdentitiesSection } from "./sso-views.tsx";

const HARD_STOP_CHOICES: Array<[string, string]> = [
  ["false", "Off: reaching it warns, nothing stops"],
  ["true", "On: reaching it stops every model request"],
];
const AUTO_MERGE_CHOICES: Array<[string, string]> = [
  ["false", "Off: a person merges"],
  ["true", "On: Pier merges once approved"],
];
const MERGE_METHOD_CHOICES: Array<[string, string]> = [
  ["squash", "Squash and merge"],
  ["merge", "Merge commit"],
  ["rebase", "Rebase and merge"],
];

interface PageProps {
  viewer: Viewer;
  runtime: "docker" | "local";
}


export function SettingsPage(
  props: PageProps & {
    settings: SettingsView;
    form: FormState;
    saved: boolean;
    prices: Price[];
    priceForm: FormState;
    priceSaved: boolean;
    /** Pier's copies of Claude Code being fetched, or that failed, as sentences. */
    claudeCodeProblems: string[];
  },
) {
  const { settings, form } = props;
  const values = {
    defaultModel: settings.defaultModel,
    defaultEngine: settings.defaultEngine,
    podMemoryMb: String(settings.podMemoryMb),
    podCpus: String(settings.podCpus),
    podPidsLimit: String(settings.podPidsLimit),
    podIdleMinutes: String(settings.podIdleMinutes),
    recordingLimitMiB: String(settings.recordingLimitMiB),
    quietSeconds: String(settings.quietSeconds),
    prPollSeconds: String(settings.prPollSeconds),
    claudeCodeVersion: settings.claudeCodeVersion,
    monthlyBudgetUsd: settings.monthlyBudgetUsd === null ? "" : String(settings.monthlyBudgetUsd),
    monthlyBudgetHard: String(settings.monthlyBudgetHard),
    sessionBudgetUsd: settings.sessionBudgetUsd === null ? "" : String(settings.sessionBudgetUsd),
    maxConcurrentRuns: String(settings.maxConcurrentRuns),
    maxFixRounds: String(settings.maxFixRounds),
    runBudgetUsd: settings.runBudgetUsd === null ? "" : String(settings.runBudgetUsd),
    runApprovalMinutes: String(settings.runApprovalMinutes),
    autoMerge: String(settings.autoMerge),
    mergeMethod: settings.mergeMethod,
    auditRetentionDays: String(settings.auditRetentionDays),
    ...form.values,
  };
  const withValues = { ...form, values };
  const nnp = (form.values.podNoNewPrivileges ?? String(settings.podNoNewPrivileges)) === "true";
  return (
    <Layout title="Settings" viewer={props.viewer} runtime={props.runtime} current="/settings">
      <SettingsNav viewer={props.viewer} current="/settings" />
      <h1>Settings</h1>
      <p class="muted">
        The instance's settings. Beside them: the tool policy, which tools the chat's agent may call and which need your approval; MCP servers for every session; and automation, triggers that start runs from a schedule, a GitHub issue or a webhook.
      </p>
      <section class="card">
        <HxForm action="/settings" label="Settings" class="grid-form">
          {props.saved ? (
            <p class="notice" role="status">
              Settings saved.
            </p>
          ) : (
            ""
          )}
          <FormError form={form} />
          <SecretField form={form} name="anthropicApiKey" label="Anthropic API key" secret={settings.anthropicApiKey} />
          <SecretField form={form} name="claudeCodeOauthToken" label="Claude Code OAuth token" secret={settings.claudeCodeOauthToken} />
          <SecretField form={form} name="openaiApiKey" label="OpenAI API key" secret={settings.openaiApiKey} />
          <SecretField form={form} name="geminiApiKey" label="Gemini API key" secret={settings.geminiApiKey} />
          <SecretField form={form} name="githubToken" label="GitHub token" secret={settings.githubToken} />
          <Field form={withValues} name="defaultModel" label="Default model"
            hint="The model new chat sessions use, for example claude-sonnet-4-6." />
          <SelectField form={withValues} name="defaultEngine" label="Default chat engine" options={ENGINE_CHOICES}
            hint="What answers a new session's chat unless its person picks the other: Pier's own agent, or Claude Code running in the pod." />
          <h2 class="form-section">Pods</h2>
          <p class="hint form-section">Limits apply to pods created from now on.</p>
          <Field form={withValues} name="podMemoryMb" label="Memory (MiB)" type="number" />
          <Field form={withValues} name="podCpus" label="CPUs" type="number" />
          <Field form={withValues} name="podPidsLimit" label="Process limit" type="number" />
          <Field form={withValues} name="podIdleMinutes" label="Stop an idle pod after (minutes)" type="number"
            hint="Never while a session is active." />
          <div class="field">
            <label for="field-podNoNewPrivileges">No new privileges</label>
            <select id="field-podNoNewPrivileges" name="podNoNewPrivileges">
              <option value="false" selected={!nnp}>
                Off: sudo works in each person's own pod (they can install tools)
              </option>
              <option value="true" selected={nnp}>
                On: processes cannot gain privileges (sudo does not work)
              </option>
            </select>
          </div>
          <h2 class="form-section">Pull requests</h2>
          <p class="hint form-section">
            Pier asks GitHub about each open pull request of a session this often; with a webhook, changes show sooner.
          </p>
          <Field form={withValues} name="prPollSeconds" label="Seconds between pull request checks" type="number"
            hint="From 10 to 3600. Unchanged answers cost nothing of GitHub's rate limit." />
          <SecretField form={form} name="githubWebhookSecret" label="GitHub webhook secret" secret={settings.githubWebhookSecret}
            about="Point a GitHub webhook at this Pier's /api/github/webhook (content type application/json; pull requests, reviews, check runs, check suites and statuses) with this secret. Deliveries it does not sign are refused." />
          <h2 class="form-section">Recordings</h2>
          <Field form={withValues} name="recordingLimitMiB" label="Recording limit per session (MiB)" type="number"
            hint="A session's terminal recording stops here, saying so; the live terminal goes on. Applies to terminals started from now on." />
          <h2 class="form-section">Needs you</h2>
          <Field form={withValues} name="quietSeconds" label="Seconds of terminal quiet before a session needs you" type="number"
            hint="After output, while its person looks elsewhere. 0 never. A finished turn, a waiting approval and the terminal's bell always count." />
          <h2 class="form-section">Claude Code</h2>
          <p class="hint form-section">
            Pods whose image has no <code>claude</code> get Pier's own copy of this version, read-only (an image's own wins).
          </p>
          <Field form={withValues} name="claudeCodeVersion" label="Claude Code version"
            hint="As on npm, for example 2.1.330. Pods get a new version from their next use on; a claude already running keeps its own." />
          {props.claudeCodeProblems.map((sentence) => (
            <p class="notice notice-warn form-section" role="status" safe>
              {sentence}
            </p>
          ))}
          <h2 class="form-section">Costs</h2>
          <Field form={withValues} name="monthlyBudgetUsd" label="Monthly budget (USD)" placeholder="none"
            hint="Everyone's model spending per calendar month (UTC). The Costs page measures against it and the dashboard warns once it is reached. Empty for none." />
          <SelectField form={withValues} name="monthlyBudgetHard" label="Monthly budget as a hard stop" options={HARD_STOP_CHOICES}
            hint="On, once the month's spending reaches the monthly budget, Pier stops every agent's turn and its gateway refuses every model request until the budget is raised or the month ends." />
          <Field form={withValues} name="sessionBudgetUsd" label="Budget per session (USD)" placeholder="none"
            hint="What one session may spend on models. Once it has, Pier stops its agent's turn and refuses its model requests, a claude typed in its terminal included; its person is told. Empty for none." />
          <h2 class="form-section">Runs</h2>
          <p class="hint form-section">Unattended runs take a task to a merged pull request without a person at the keyboard.</p>
          <Field form={withValues} name="maxConcurrentRuns" label="Runs at once" type="number"
            hint="From 1 to 64. Runs working or fixing hold a slot; the others wait in order." />
          <Field form={withValues} name="maxFixRounds" label="Fix rounds per pull request" type="number"
            hint="From 0 to 20: rounds of CI failures, review changes or conflicts the agent gets before the run fails." />
          <Field form={withValues} name="runBudgetUsd" label="Budget per run (USD)"
            hint="A run's budget unless it is started with its own; past it, Pier stops the run. Empty for the default, 10." />
          <Field form={withValues} name="runApprovalMinutes" label="Minutes a run waits for a tool approval" type="number"
            hint="From 1 to 10080. A tool the policy asks about raises needs-you; unanswered by then, it is denied." />
          <SelectField form={withValues} name="autoMerge" label="Merge approved runs' pull requests" options={AUTO_MERGE_CHOICES}
            hint="On, an approved run's pull request is merged by Pier once GitHub's own rules allow it. A run can say otherwise." />
          <SelectField form={withValues} name="mergeMethod" label="Merge method" options={MERGE_METHOD_CHOICES} />
          <h2 class="form-section">Audit log</h2>
          <Field form={withValues} name="auditRetentionDays" label="Days the audit log keeps an entry" type="number"
            hint="From 1 to 36500. Older entries are dropped every hour." />
          <button type="submit" class="primary">Save settings</button>
        </HxForm>
      </section>
      <PriceTable prices={props.prices} form={props.priceForm} saved={props.priceSaved} />
      <section class="card" id="backup">
        <h2>Backup</h2>
        <p class="hint">
          One archive of the database, the secret key and every recording, taken while Pier runs. Restore it into an empty data dir with{" "}
          <code>bun run restore FILE</code>. Worktrees and clones are not in it: push what must survive.
        </p>
        <a class="button" href="/api/admin/backup" download="">
          Download a backup
        </a>
      </section>
    </Layout>
  );
}

/** The models sessions may use and what their tokens cost; costs are computed from this table. */
function PriceTable(props: { prices: Price[]; form: FormState; saved: boolean }) {
  return (
    <section class="card" id="prices">
      <h2>Models and prices</h2>
      <p class="hint">USD per million tokens. Changes apply to responses from now on; recorded costs stay as they were.</p>
      <div class="table-scroll">
        <table class="prices" aria-label="Model prices">
          <thead>
            <tr>
              <th>Model</th>
              <th>Input</th>
              <th>Output</th>
              <th>Cache write</th>
              <th>Cache read</th>
            </tr>
          </thead>
          <tbody>
            {props.prices.map((price) => (
              <tr>
                <td class="mono" safe>
                  {price.model}
                </td>
                <td safe>{String(price.inputPerMTok)}</td>
                <td safe>{String(price.outputPerMTok)}</td>
                <td safe>{String(price.cacheWritePerMTok)}</td>
                <td safe>{String(price.cacheReadPerMTok)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <HxForm action="/settings/prices" label="Add or change a model's prices" class="grid-form">
        {props.saved ? (
          <p class="notice" role="status">
            Prices saved.
          </p>
        ) : (
          ""
        )}
        <FormError form={props.form} />
        <Field form={props.form} name="model" label="Model id" placeholder="claude-sonnet-4-6" required />
        <Field form={props.form} name="inputPerMTok" label="Input" type="number" required />
        <Field form={props.form} name="outputPerMTok" label="Output" type="number" required />
        <Field form={props.form} name="cacheWritePerMTok" label="Cache write" type="number" required />
        <Field form={props.form} name="cacheReadPerMTok" label="Cache read" type="number" required />
        <button type="submit" class="primary">Save prices</button>
      </HxForm>
    </section>
  );
}

/** `about` says what the secret is for, before its status. */
function SecretField(props: { form: FormState; name: string; label: string; secret: MaskedSecret; about?: string }) {
  const { secret } = props;
  const status = !secret.set
    ? "Not set."
    : secret.source === "environment"
      ? `Set by the environment (${secret.mask}). A value saved here takes precedence.`
      : `Saved (${secret.mask}). Leave blank to keep it.`;
  return (
    <div class="secret-field">
      <Field form={props.form} name={props.name} label={props.label} type="password" secret autocomplete="off"
        hint={props.about ? `${props.about} ${status}` : status} />
      {secret.source === "settings" ? (
        <label class="check">
          <input type="checkbox" name={`clear_${props.name}`} value="1" /> Remove the saved value
        </label>
      ) : (
        ""
      )}
    </div>
  );
}


/** Pier's API tokens for scripts, and the person's own credentials for outside services. */
export function TokensPage(
  props: PageProps & {
    tokens: ApiToken[];
    form: FormState;
    created?: { name: string; token: string };
    credentials: PersonalCredentialsView;
    credentialsForm: FormState;
    credentialsSaved: boolean;
    webhook: WebhookView;
    notificationsForm: FormState;
    notificationsSaved: boolean;
    /** The person's accounts at the sign-in providers. */
    identities: IdentityLink[];
    /** The person's devices taking Pier's pushes. */
    devices: PublicDevice[];
  },
) {
  return (
    <Layout title="Tokens" viewer={props.viewer} runtime={props.runtime} current="/tokens">
      <h1>Tokens</h1>
      <p class="muted">
        API tokens let scripts act as you: they send one as <code>Authorization: Bearer …</code>.{" "}
        <a href="#credentials">Your credentials</a> for GitHub and Anthropic are further down; your{" "}
        <a href="/settings/automation">triggers</a>, which start runs by themselves, have a page of their own.
      </p>
      {props.created ? (
        <section class="card card-highlight" aria-label="New token">
          <h2 safe>Token "{props.created.name}" created</h2>
          <p>Copy it now: Pier keeps only a hash and cannot show it again.</p>
          <div class="copy-row">
            <code class="mono wrap" id="new-token" safe>
              {props.created.token}
            </code>
            <button type="button" data-copy="#new-token">
              Copy
            </button>
          </div>
        </section>
      ) : (
        ""
      )}
      <section class="card">
        <h2>Create an API token</h2>
        <HxForm action="/tokens" label="Create a token" class="inline-form">
          <Field form={props.form} name="name" label="Name" required placeholder="ci-script" />
          <button type="submit" class="primary">Create token</button>
        </HxForm>
      </section>
      <section class="card">
        <h2>Your API tokens</h2>
        {props.tokens.length === 0 ? (
          <p class="empty">No tokens yet.</p>
        ) : (
          <ul class="list" aria-label="Your tokens">
            {props.tokens.map((token) => (
              <li class="list-row">
                <span class="list-title" safe>
                  {token.name}
                </span>
                <span class="muted" safe>
                  {`created ${formatDate(token.createdAt)}, ` +
                    (token.lastUsedAt ? `last used ${formatDate(token.lastUsedAt)}` : "never used")}
                </span>
                <HxForm action={`/tokens/${token.id}/revoke`} label="Revoke token" confirm="Revoke this token? Scripts using it stop working.">
                  <button type="submit" class="danger small">Revoke</button>
                </HxForm>
              </li>
            ))}
          </ul>
        )}
      </section>
      <CredentialsSection credentials={props.credentials} form={props.credentialsForm} saved={props.credentialsSaved} />
      <IdentitiesSection links={props.identities} />
      <NotificationsSection webhook={props.webhook} form={props.notificationsForm} saved={props.notificationsSaved} />
      <PushDevicesSection devices={props.devices} />
    </Layout>
  );
}


export function UsersPage(props: PageProps & { users: User[]; form: FormState }) {
  const roleError = props.form.error?.field === "role" ? props.form.error.message : undefined;
  const role = props.form.values.role ?? "member";
  return (
    <Layout title="Users" viewer={props.viewer} runtime={props.runtime} current="/users">
      <h1>Users</h1>
      <section class="card">
        <ul class="list" aria-label="Users">
          {props.users.map((user) => (
            <li class="list-row">
              <span class="list-title" safe>
                {user.username}
              </span>
              <span class="pill">{user.role}</span>
              <span class="muted" safe>
                {`since ${formatDate(user.createdAt)}`}
              </span>
            </li>
          ))}
        </ul>
      </section>
      <section class="card">
        <h2>Add a member</h2>
        <HxForm action="/users" label="Add a user" class="grid-form">
          <FormError form={props.form} />
          <Field form={props.form} name="username" label="Username" required autocomplete="off" />
          <Field form={props.form} name="password" label="Password" type="password" required secret
            autocomplete="new-password" hint="At least 8 characters; share it with them privately." />
          <div class="field">
            <label for="field-role">Role</label>
            <select id="field-role" name="role">
              <option value="member" selected={role === "member"}>
                Member
              </option>
              <option value="admin" selected={role === "admin"}>
                Admin
              </option>
            </select>
            {roleError ? (
              <p class="field-error" role="alert" safe>
                {roleError}
              </p>
            ) : (
              ""
            )}
          </div>
          <button type="submit" class="primary">Add user</button>
        </HxForm>
      </section>
    </Layout>
  );
}
