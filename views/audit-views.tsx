import type { AuditAction, PublicAuditEntry } from "../src/audit/entry.ts";
import { FormError, type FormState, Field, SelectField } from "./components.tsx";
import { Layout, type Viewer } from "./layout.tsx";

/** Each action as the page says it. */
const ACTION_LABELS: Record<AuditAction, string> = {
  sign_in: "Signed in",
  sign_in_failed: "Sign-in refused",
  token_created: "API token made",
  token_revoked: "API token revoked",
  user_created: "Person added",
  setting_changed: "Setting changed",
  credential_changed: "Own credential changed",
  repo_added: "Repository added",
  repo_removed: "Repository removed",
  session_started: "Session started",
  session_ended: "Session ended",
  session_resumed: "Session resumed",
  approval_answered: "Approval answered",
  gateway_refused: "Gateway refused",
  trigger_fired: "Trigger fired",
  trigger_refused: "Trigger refused",
  backup_taken: "Backup taken",
  sso_provider_added: "Sign-in provider added",
  sso_provider_changed: "Sign-in provider changed",
  sso_provider_removed: "Sign-in provider removed",
  identity_linked: "Identity linked",
  identity_unlinked: "Identity unlinked",
  agent_added: "Agent added",
  agent_changed: "Agent changed",
  agent_removed: "Agent removed",
  docker_engine_added: "Docker engine added",
  docker_engine_changed: "Docker engine changed",
  docker_engine_removed: "Docker engine removed",
  pod_moved: "Pod moved",
};

/** Who did it, in words: a person by name, an agent after its person, a trigger by name, or Pier. */
function actorWords(actor: PublicAuditEntry["actor"]): string {
  switch (actor.kind) {
    case "person":
      return actor.name ?? "(no such username)";
    case "agent":
      return `agent of ${actor.name ?? "a person no longer here"}`;
    case "trigger":
      return `trigger ${actor.name ?? actor.id ?? ""}`;
    default:
      return actor.name ?? "Pier";
  }
}

function targetWords(target: PublicAuditEntry["target"]): string {
  if (!target) return "";
  return `${target.kind} ${target.name ?? target.id ?? ""}`.trim();
}

/**
 * The audit log for admins: newest first, filtered by who (a kind of actor or one person), what
 * and when, a page at a time; a plain GET form, so the filters live in the URL and the CSV link
 * downloads exactly what they take.
 */
export function AuditPage(props: {
  viewer: Viewer;
  runtime: "docker" | "local";
  entries: PublicAuditEntry[];
  form: FormState;
  /** People to pick from, as [id, username]. */
  people: Array<[string, string]>;
  next: string | null;
  csv: string;
  filtered: boolean;
  retentionDays: number;
}) {
  const { form } = props;
  const actions = Object.entries(ACTION_LABELS) as Array<[string, string]>;
  return (
    <Layout title="Audit log" viewer={props.viewer} runtime={props.runtime} current="/audit">
      <div class="card-head">
        <h1>Audit log</h1>
        <a href={props.csv} class="button" download="">
          Download CSV
        </a>
      </div>
      <p class="hint" safe>
        {`Who signed in, changed settings, credentials, tokens, people and repositories, started, ended and resumed sessions, answered approvals, what the gateway and triggers refused, and backups. Never a secret's value. Entries are kept ${props.retentionDays} days (Settings).`}
      </p>
      <section class="card">
        <form method="get" action="/audit" class="history-filters" aria-label="Filter the audit log">
          <FormError form={form} />
          <SelectField form={form} name="actor" label="Who"
            options={[["", "Anyone"], ["person", "People"], ["agent", "Agents"], ["trigger", "Triggers"], ["system", "Pier"], ...props.people]} />
          <SelectField form={form} name="action" label="Action" options={[["", "Any action"], ...actions]} />
          <Field form={form} name="from" label="From" type="date" />
          <Field form={form} name="to" label="To" type="date" />
          <div class="history-actions">
            <button type="submit" class="primary">Filter</button>
            {props.filtered ? <a href="/audit">Clear</a> : ""}
          </div>
        </form>
      </section>
      <section class="card">
        {props.entries.length === 0 ? (
          <p class="muted">{props.filtered ? "No entry matches these filters." : "Nothing recorded yet."}</p>
        ) : (
          <div class="table-scroll">
            <table class="audit" aria-label="Audit log entries">
              <thead>
                <tr>
                  <th>When</th>
                  <th>Who</th>
                  <th>Action</th>
                  <th>What</th>
                  <th>Detail</th>
                  <th>Address</th>
                </tr>
              </thead>
              <tbody>
                {props.entries.map((entry) => (
                  <tr data-audit-entry={entry.id}>
                    <td class="nowrap" safe>{`${entry.at.replace("T", " ").slice(0, 19)} UTC`}</td>
                    <td safe>{actorWords(entry.actor)}</td>
                    <td safe>{ACTION_LABELS[entry.action as AuditAction] ?? entry.action}</td>
                    <td safe>{targetWords(entry.target)}</td>
                    <td class="audit-detail" safe>
                      {entry.detail ?? ""}
                    </td>
                    <td class="mono" safe>
                      {entry.address ?? ""}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {props.next ? (
          <nav class="pager" aria-label="Pages">
            <a href={props.next} rel="next">
              Older entries
            </a>
          </nav>
        ) : (
          ""
        )}
      </section>
    </Layout>
  );
}
