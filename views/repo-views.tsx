import { Field, FormError, type FormState, HxForm, SelectField, TextArea, formatDate } from "./components.tsx";
import type { PublicMcpServer } from "../src/mcp-servers/mcp-servers.ts";
import type { EnvironmentView } from "../src/environments/environments.ts";
import type { PodView } from "../src/pods/pods.ts";
import { EnvironmentSection } from "./environment-views.tsx";
import type { Repo } from "../src/repos/repos.ts";
import { SessionList, type SessionRow } from "./session-views.tsx";
import { Layout, type Viewer } from "./layout.tsx";
import { RepoSkillsSection, type RepoSkillsProps } from "./repo-skills.tsx";
import type { EffectivePolicy } from "../src/policies/policies.ts";
import { ToolPolicySummary } from "./tool-policy-views.tsx";
import { RepoMcpSection } from "./mcp-views.tsx";

interface PageProps {
  viewer: Viewer;
  runtime: "docker" | "local";
}

export function ReposPage(props: PageProps & { repos: Repo[]; form: FormState; allowLocalRepos: boolean }) {
  return (
    <Layout title="Repositories" viewer={props.viewer} runtime={props.runtime} current="/repos">
      <h1>Repositories</h1>
      <section class="card">
        <RepoList repos={props.repos} />
      </section>
      {props.viewer.role === "admin" ? (
        <section class="card">
          <h2>Add a repository</h2>
          <HxForm action="/repos" label="Add a repository" class="grid-form">
            <FormError form={props.form} />
            <Field form={props.form} name="url" label="Git URL" required placeholder="https://github.com/owner/repo.git"
              hint={
                props.allowLocalRepos
                  ? "https://, ssh://, git@host:owner/repo.git, or a local path."
                  : "https://, ssh:// or git@host:owner/repo.git."
              } />
            <Field form={props.form} name="name" label="Name" hint="Optional; taken from the URL when empty." />
            <Field form={props.form} name="defaultBranch" label="Default branch" placeholder="main" />
            <Field form={props.form} name="image" label="Image" placeholder="pier-workspace:latest"
              hint="Optional Docker image for this repository's pod." />
            <Field form={props.form} name="terminalCommand" label="Terminal start command" placeholder="claude"
              hint="Optional; runs when a session's terminal opens. A shell remains when it exits." />
            <Field form={props.form} name="githubRepo" label="GitHub repository" placeholder="owner/name"
              hint="Optional; taken from the URL when it is on GitHub. Set it for a mirror or a local clone so its pull requests are followed." />
            <button type="submit" class="primary">Add repository</button>
          </HxForm>
        </section>
      ) : (
        ""
      )}
    </Layout>
  );
}

function RepoList(props: { repos: Repo[] }) {
  if (props.repos.length === 0) return <p class="empty">No repositories yet.</p>;
  return (
    <ul class="list" aria-label="Repositories">
      {props.repos.map((repo) => (
        <li class="list-row">
          <a href={`/repos/${repo.id}`} class="list-title" safe>
            {repo.name}
          </a>
          <span class="muted mono wrap" safe>
            {repo.url}
          </span>
          <span class="pill" safe>
            {repo.defaultBranch}
          </span>
        </li>
      ))}
    </ul>
  );
}

export function RepoPage(
  props: PageProps & {
    repo: Repo;
    defaultImage: string;
    githubOrigin: string;
    pod: PodView | null;
    sessions: SessionRow[];
    form: FormState;
    saved?: boolean;
    /** What the Skills section shows (views/repo-skills.tsx). */
    skills?: RepoSkillsProps;
    /** The tool policy its sessions' agents follow. */
    toolPolicy: EffectivePolicy;
    /** The MCP servers its sessions get. */
    mcpServers: PublicMcpServer[];
    /** Its environment as the viewer's pod stands against it; null when it could not be read. */
    environment: EnvironmentView | null;
    /** The viewer just asked for a rebuild. */
    rebuilding?: boolean;
  },
) {
  const { repo } = props;
  return (
    <Layout title={repo.name} viewer={props.viewer} runtime={props.runtime} current="/repos" styles={["/public/skills.css"]}>
      <p class="crumbs">
        <a href="/repos">Repositories</a> /
      </p>
      <h1 safe>{repo.name}</h1>
      <section class="card">
        <dl class="facts">
          <dt>URL</dt>
          <dd class="mono wrap" safe>
            {repo.url}
          </dd>
          <dt>Default branch</dt>
          <dd class="mono" safe>
            {repo.defaultBranch}
          </dd>
          <dt>GitHub</dt>
          <dd>
            {repo.githubRepo ? (
              <a href={`${props.githubOrigin}/${repo.githubRepo}`} class="mono" safe>
                {repo.githubRepo}
              </a>
            ) : (
              <>
                Not on GitHub as far as Pier knows, so its sessions' pull requests are not followed.
                {props.viewer.role === "admin" ? " Set its GitHub repository below." : " An admin can set its GitHub repository."}
              </>
            )}
          </dd>
          <dt>Image</dt>
          <dd class="mono" safe>
            {props.environment?.source === "devcontainer" ? "from its devcontainer (see Environment)" : (repo.image ?? `${props.defaultImage} (default)`)}
          </dd>
          <dt>Your pod</dt>
          <dd>
            {props.pod
              ? `${props.pod.state}${props.pod.containerId ? ` (${props.pod.containerId.slice(0, 12)})` : ""}`
              : "None yet: yours is created when your first session starts. Each person has their own pod of a repository."}
          </dd>
          <dt>Terminal starts</dt>
          <dd class="mono" safe>
            {repo.terminalCommand ?? "a login shell"}
          </dd>
          <dt>Added</dt>
          <dd safe>{formatDate(repo.createdAt)}</dd>
        </dl>
      </section>
      {props.environment ? <EnvironmentSection repoId={repo.id} view={props.environment} rebuilding={props.rebuilding} /> : ""}
      <section class="card">
        <div class="card-head">
          <h2>Sessions</h2>
          <a href={`/sessions/new?repoId=${repo.id}`} class="button primary-link">
            New session
          </a>
        </div>
        <SessionList rows={props.sessions} empty="No sessions on this repository yet." />
      </section>
      {props.skills ? <RepoSkillsSection {...props.skills} /> : ""}
      <RepoMcpSection repo={repo} servers={props.mcpServers} viewer={props.viewer} />
      <ToolPolicySummary repoId={repo.id} effective={props.toolPolicy} isAdmin={props.viewer.role === "admin"} />
      {props.viewer.role === "admin" ? (
        <section class="card">
          <h2>Settings</h2>
          <HxForm action={`/repos/${repo.id}/settings`} label="Repository settings" class="grid-form">
            {props.saved ? (
              <p class="notice" role="status">
                Saved. New sessions use these settings.
              </p>
            ) : (
              ""
            )}
            <FormError form={props.form} />
            <Field form={props.form} name="defaultBranch" label="Default branch" />
            <Field form={props.form} name="image" label="Image" placeholder={props.defaultImage}
              hint="Empty uses the workspace image. A changed image applies when the pod is next created." />
            <Field form={props.form} name="terminalCommand" label="Terminal start command" placeholder="claude"
              hint="Empty opens a login shell." />
            <Field form={props.form} name="githubRepo" label="GitHub repository" placeholder="owner/name"
              hint="Where its pull requests are, on the GitHub Pier talks to. Empty takes it from the URL." />
            <Field form={props.form} name="maxConcurrentRuns" label="Runs at once" type="number"
              hint="From 1 to 64: its unattended runs working or fixing at once, within the instance's limit. Empty for the instance's limit only." />
            <SelectField form={props.form} name="devcontainerPath" label="Devcontainer"
              options={[["", "The first found"], ...(props.environment?.candidates ?? []).map((path): [string, string] => [path, path])]}
              hint="Which devcontainer.json pods are made from, when the repository has several." />
            <SelectField form={props.form} name="warmPods" label="Warm pods" options={[["false", "Off"], ["true", "On"]]}
              hint="On: each person's pod is built and started ahead (at start-up and after a rebuild), so a first session starts warm." />
            <TextArea form={props.form} name="setupScript" label="Setup script" rows={4} placeholder="npm ci"
              hint="Runs in each new worktree, in its pod, before the terminal and chat start; its output is the terminal's first lines. Stopped after 15 minutes; a failure is shown and the session starts all the same. Empty for none." />
            <TextArea form={props.form} name="cleanupScript" label="Cleanup script" rows={3}
              hint="Runs in the worktree before a session ends, before its uncommitted work is saved. Stopped after 2 minutes; a failure never keeps the session from ending. Empty for none." />
            <button type="submit" class="primary">Save</button>
          </HxForm>
        </section>
      ) : (
        ""
      )}
      {props.viewer.role === "admin" ? (
        <HxForm action={`/repos/${repo.id}/delete`} label="Remove repository"
          confirm={`Remove ${repo.name} from Pier? The remote repository is not touched.`}>
          <button type="submit" class="danger">Remove from Pier</button>
        </HxForm>
      ) : (
        ""
      )}
    </Layout>
  );
}
