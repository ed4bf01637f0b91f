import type { EffectivePolicy } from "../src/policies/policies.ts";
import { type ToolPolicy, describePolicy } from "../src/policies/policy.ts";
import type { Repo } from "../src/repos/repos.ts";
import { FormError, type FormState, HxForm, TextArea } from "./components.tsx";
import { Layout, type Viewer } from "./layout.tsx";
import { SettingsNav } from "./settings-nav.tsx";

interface PageProps {
  viewer: Viewer;
  runtime: "docker" | "local";
}

/** What the policy form needs besides the form state: the policy it starts from and the tool names worth knowing. */
interface PolicyFormProps {
  action: string;
  form: FormState;
  /** The policy as it stands; null for a repo that inherits. */
  policy: ToolPolicy | null;
  /** The lists the form starts with when `policy` is null: the global ones a repo inherits. */
  startFrom?: ToolPolicy;
  /** A repo's form offers "inherit the global policy". */
  inheritable: boolean;
  knownTools: string[];
  saved: boolean;
}

const MODES: Array<{ value: string; label: string; hint: string }> = [
  { value: "allow_all", label: "Allow all", hint: "The agent runs every tool without asking." },
  { value: "deny_all", label: "Deny all", hint: "The agent may run no tool at all; it can only talk." },
  { value: "custom", label: "Custom", hint: "The lists below decide; a tool in none of them is asked about." },
];

const STYLES = ["/public/policies.css"];

/** The instance's tool policy: a form for admins, what it says for everyone else. */
export function ToolPolicyPage(props: PageProps & Omit<PolicyFormProps, "action" | "inheritable"> & { policy: ToolPolicy }) {
  return (
    <Layout title="Tool policy" viewer={props.viewer} runtime={props.runtime} current="/settings" styles={STYLES}>
      <SettingsNav viewer={props.viewer} current="/settings/tool-policy" />
      <h1>Tool policy</h1>
      <PolicyIntro />
      <section class="card">
        {props.viewer.role === "admin" ? (
          <PolicyForm {...props} action="/settings/tool-policy" inheritable={false} />
        ) : (
          <PolicyFacts policy={props.policy} note="Only an admin can change it." />
        )}
      </section>
    </Layout>
  );
}

/** A repo's tool policy: its own, or the global one it inherits. */
export function RepoToolPolicyPage(props: PageProps & Omit<PolicyFormProps, "action" | "inheritable"> & { repo: Repo; effective: EffectivePolicy }) {
  const { repo } = props;
  return (
    <Layout title={`Tool policy · ${repo.name}`} viewer={props.viewer} runtime={props.runtime} current="/repos" styles={STYLES}>
      <p class="crumbs">
        <a href="/repos">Repositories</a> / <a href={`/repos/${repo.id}`} safe>{repo.name}</a> /
      </p>
      <h1 safe>Tool policy of {repo.name}</h1>
      <PolicyIntro />
      <section class="card">
        <p>
          {props.effective.source === "repo" ? "This repository has its own policy: " : "This repository inherits the global policy: "}
          <span safe>{describePolicy(props.effective.policy)}</span>
        </p>
        {props.viewer.role === "admin" ? (
          <PolicyForm {...props} action={`/repos/${repo.id}/tool-policy`} inheritable={true} startFrom={props.effective.policy} />
        ) : (
          <p class="hint">Only an admin can change it.</p>
        )}
      </section>
    </Layout>
  );
}

/** The repo page's short account of the policy its sessions follow, with the way to change it. */
export function ToolPolicySummary(props: { repoId: string; effective: EffectivePolicy; isAdmin: boolean }) {
  return (
    <section class="card" id="tool-policy">
      <div class="card-head">
        <h2>Tool policy</h2>
        <a href={`/repos/${props.repoId}/tool-policy`} class="button">
          {props.isAdmin ? "Change" : "Details"}
        </a>
      </div>
      <p>
        {props.effective.source === "repo" ? "Its own: " : "The global policy: "}
        <span safe>{describePolicy(props.effective.policy)}</span>
      </p>
    </section>
  );
}

function PolicyIntro() {
  return (
    <p class="muted">
      Which tools the chat's agent may call. A denied call is refused and the agent is told why; a call the policy asks
      about waits in the chat until the session's person approves or denies it. Tools are named as the agent calls them:
      built-in ones such as <code>bash</code>, or an MCP server's as <code>mcp__server__tool</code>; a name ending in{" "}
      <code>*</code> covers every tool it starts (<code>mcp__github__*</code>). Denied wins over ask, and ask over allowed.
    </p>
  );
}

function PolicyFacts(props: { policy: ToolPolicy; note: string }) {
  const { policy } = props;
  return (
    <>
      <p safe>{describePolicy(policy)}</p>
      {policy.mode === "custom" ? (
        <dl class="facts">
          <dt>Allowed</dt>
          <dd class="mono" safe>
            {policy.allowed.join(", ") || "none"}
          </dd>
          <dt>Ask</dt>
          <dd class="mono" safe>
            {policy.ask.join(", ") || "none"}
          </dd>
          <dt>Denied</dt>
          <dd class="mono" safe>
            {policy.denied.join(", ") || "none"}
          </dd>
        </dl>
      ) : (
        ""
      )}
      <p class="hint" safe>
        {props.note}
      </p>
    </>
  );
}

/**
 * The form, without JavaScript: the mode as radio buttons, then the three lists, one tool name per
 * line. A repo's form has "inherit" first, which removes its own policy.
 */
function PolicyForm(props: PolicyFormProps) {
  const { form, policy } = props;
  const mode = form.values.mode ?? (policy ? policy.mode : "inherit");
  const lists = policy ?? props.startFrom;
  const values = {
    allowed: (lists?.allowed ?? []).join("\n"),
    ask: (lists?.ask ?? []).join("\n"),
    denied: (lists?.denied ?? []).join("\n"),
    ...form.values,
  };
  const withValues = { ...form, values };
  const modes = props.inheritable ? [{ value: "inherit", label: "Inherit", hint: "Follow the global tool policy." }, ...MODES] : MODES;
  const modeError = form.error?.field === "mode" ? form.error.message : undefined;
  return (
    <HxForm action={props.action} label="Tool policy" class="policy-form">
      {props.saved ? (
        <p class="notice" role="status">
          Tool policy saved. It applies to the agent's next tool call.
        </p>
      ) : (
        ""
      )}
      <FormError form={form} />
      <fieldset class="policy-modes" aria-describedby={modeError ? "field-mode-error" : undefined}>
        <legend>Mode</legend>
        {modes.map((choice) => (
          <label class="policy-mode">
            <input type="radio" name="mode" value={choice.value} checked={mode === choice.value} />
            <span>
              <strong safe>{choice.label}</strong>
              <span class="hint" safe>
                {choice.hint}
              </span>
            </span>
          </label>
        ))}
        {modeError ? (
          <p class="field-error" id="field-mode-error" role="alert" safe>
            {modeError}
          </p>
        ) : (
          ""
        )}
      </fieldset>
      <div class="policy-lists">
        <TextArea form={withValues} name="allowed" label="Allowed (no need to ask)" rows={6} placeholder={"read_file\nlist_files"} hint="One tool name per line." />
        <TextArea form={withValues} name="ask" label="Ask first" rows={6} placeholder={"bash\nwrite_file"} hint="One per line. Tools in no list are asked about too." />
        <TextArea form={withValues} name="denied" label="Denied" rows={6} placeholder={"mcp__github__*"} hint="One per line. Wins over the other lists." />
      </div>
      <p class="hint policy-known">
        {"Pier's own tools: "}
        <span class="mono" safe>
          {props.knownTools.join(", ")}
        </span>
        . An MCP server's tools are named <code>mcp__server__tool</code>.
      </p>
      <p class="hint">The lists are kept in every mode and apply in Custom.</p>
      <button type="submit" class="primary">
        Save tool policy
      </button>
    </HxForm>
  );
}
