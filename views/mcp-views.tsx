import type { PublicMcpServer } from "../src/mcp-servers/mcp-servers.ts";
import type { Repo } from "../src/repos/repos.ts";
import { Field, FormError, type FormState, HxForm, SelectField, TextArea } from "./components.tsx";
import { Layout, type Viewer } from "./layout.tsx";
import { SettingsNav } from "./settings-nav.tsx";

interface PageProps {
  viewer: Viewer;
  runtime: "docker" | "local";
}

/** A server's settings as its form shows them: arguments one per line, environment as NAME=value lines with values masked. */
export function mcpFormValues(server: PublicMcpServer): Record<string, string> {
  return {
    name: server.name,
    command: server.command,
    args: server.args.join("\n"),
    env: Object.entries(server.env)
      .map(([name, masked]) => `${name}=${masked}`)
      .join("\n"),
    enabled: server.enabled ? "1" : "0",
    repoId: server.repoId ?? "",
  };
}

/** Every MCP server, and for admins a form to add one. */
export function McpServersPage(props: PageProps & { servers: PublicMcpServer[]; repos: Repo[]; form: FormState; notice?: string }) {
  const admin = props.viewer.role === "admin";
  const repoName = new Map(props.repos.map((repo) => [repo.id, repo.name]));
  const scopes: Array<[string, string]> = [["", "Global: every repository"], ...props.repos.map((repo): [string, string] => [repo.id, `Only ${repo.name}`])];
  const form = { ...props.form, values: { enabled: "1", ...props.form.values } };
  return (
    <Layout title="MCP servers" viewer={props.viewer} runtime={props.runtime} current="/settings">
      <SettingsNav viewer={props.viewer} current="/settings/mcps" />
      <h1>MCP servers</h1>
      <p class="muted">
        Every session's <code>.mcp.json</code> lists these, so Claude Code in its terminal finds them, and the chat's agent
        gets their tools as <code>{"mcp__&lt;server&gt;__&lt;tool&gt;"}</code>. They run in the session's pod, in its worktree.
        Environment values are secrets: stored encrypted, shown masked, and given to a server only as it starts, never
        written into a file. A repository's server takes the place of a global one of the same name there; a disabled one
        turns it off for that repository.
      </p>
      {props.notice ? (
        <p class="notice" role="status" safe>
          {props.notice}
        </p>
      ) : (
        ""
      )}
      <section class="card">
        <h2>Servers</h2>
        <McpServerList servers={props.servers} repoName={repoName} admin={admin} empty="No MCP servers yet." />
      </section>
      {admin ? (
        <section class="card" id="new">
          <h2>Add an MCP server</h2>
          <HxForm action="/settings/mcps" label="Add an MCP server" class="grid-form mono-fields">
            <FormError form={form} />
            <McpServerFields form={form} />
            <SelectField form={form} name="repoId" label="For" options={scopes} hint="Which repositories' sessions get it." />
            <button type="submit" class="primary">Add server</button>
          </HxForm>
        </section>
      ) : (
        <p class="muted">Only an admin can add or change MCP servers.</p>
      )}
    </Layout>
  );
}

/** One server's form (admins only), and its removal. */
export function McpServerPage(props: PageProps & { server: PublicMcpServer; repo: Repo | null; form: FormState }) {
  const { server } = props;
  const scope = props.repo ? `For the sessions of ${props.repo.name} only.` : "Global: every repository's sessions get it.";
  return (
    <Layout title={`MCP server ${server.name}`} viewer={props.viewer} runtime={props.runtime} current="/settings">
      <p class="crumbs">
        <a href="/settings/mcps">MCP servers</a> /
      </p>
      <h1 safe>{server.name}</h1>
      <p class="muted" safe>
        {scope}
      </p>
      <section class="card">
        <HxForm action={`/settings/mcps/${server.id}`} label="MCP server settings" class="grid-form mono-fields">
          <FormError form={props.form} />
          <McpServerFields form={props.form} />
          <button type="submit" class="primary">Save</button>
        </HxForm>
      </section>
      <HxForm action={`/settings/mcps/${server.id}/delete`} label="Remove MCP server"
        confirm={`Remove the MCP server ${server.name}? Sessions lose it within seconds.`}>
        <button type="submit" class="danger">Remove server</button>
      </HxForm>
    </Layout>
  );
}

/** The fields adding and editing share. */
function McpServerFields(props: { form: FormState }) {
  const { form } = props;
  return (
    <>
      <Field form={form} name="name" label="Name" required placeholder="github"
        hint="Lowercase words joined by hyphens, at most 64 characters; the middle of its tools' names." />
      <Field form={form} name="command" label="Command" required placeholder="npx"
        hint="The program to start, on the pod's PATH or an absolute path. It runs in the session's worktree." />
      <TextArea form={form} name="args" label="Arguments" rows={4} placeholder={"-y\n@modelcontextprotocol/server-github"}
        hint="One per line, as they are: no shell quoting. Blank lines are skipped." />
      <TextArea form={form} name="env" label="Environment" rows={4} placeholder="GITHUB_TOKEN=…"
        hint="NAME=value, one per line. Saved values show masked and stay as they are unless you replace them; remove a line to remove it. Values you type are not shown again." />
      <label class="check">
        <input type="checkbox" name="enabled" value="1" checked={form.values.enabled === "1"} /> Enabled
      </label>
    </>
  );
}

/** Servers as rows: name, scope, state, what runs and which variables it gets; for admins an edit link and a toggle. */
export function McpServerList(props: {
  servers: PublicMcpServer[];
  repoName: Map<string, string>;
  admin: boolean;
  empty: string;
  replaced?: Set<string>;
  /** The page a toggle comes back to (this list's own page when left out). */
  back?: string;
}) {
  if (props.servers.length === 0) return <p class="empty" safe>{props.empty}</p>;
  return (
    <ul class="list" aria-label="MCP servers">
      {props.servers.map((server) => {
        const names = Object.keys(server.env);
        const replaced = props.replaced?.has(server.id) ?? false;
        const scope = server.repoId ? (props.repoName.get(server.repoId) ?? "a repository") : "global";
        return (
          <li class="list-row" data-server={server.name}>
            {props.admin ? (
              <a href={`/settings/mcps/${server.id}`} class="list-title" safe>
                {server.name}
              </a>
            ) : (
              <span class="list-title" safe>
                {server.name}
              </span>
            )}
            <span class="pill" safe>
              {scope}
            </span>
            <span class={server.enabled && !replaced ? "pill pill-active" : "pill"}>
              {replaced ? "replaced here" : server.enabled ? "enabled" : "disabled"}
            </span>
            <span class="muted mono wrap" safe>
              {[server.command, ...server.args].join(" ")}
            </span>
            {names.length > 0 ? (
              <span class="muted wrap" safe>
                {`env: ${names.join(", ")}`}
              </span>
            ) : (
              ""
            )}
            {props.admin ? (
              <HxForm action={`/settings/mcps/${server.id}/enabled`} label={`${server.enabled ? "Disable" : "Enable"} ${server.name}`}>
                <input type="hidden" name="enabled" value={server.enabled ? "0" : "1"} />
                {props.back ? <input type="hidden" name="back" value={props.back} /> : ""}
                <button type="submit" class="small">
                  {server.enabled ? "Disable" : "Enable"}
                </button>
              </HxForm>
            ) : (
              ""
            )}
          </li>
        );
      })}
    </ul>
  );
}

/**
 * The repo page's part: the servers its sessions get (global ones, and its own, which take the
 * place of a global one of the same name), with links to change them.
 */
export function RepoMcpSection(props: { repo: Repo; servers: PublicMcpServer[]; viewer: Viewer }) {
  const own = props.servers.filter((server) => server.repoId === props.repo.id);
  const ownNames = new Set(own.map((server) => server.name));
  const global = props.servers.filter((server) => server.repoId === null);
  const shown = [...own, ...global];
  const replaced = new Set(global.filter((server) => ownNames.has(server.name)).map((server) => server.id));
  const admin = props.viewer.role === "admin";
  return (
    <section class="card" id="mcp-servers">
      <div class="card-head">
        <h2>MCP servers</h2>
        <a href={admin ? `/settings/mcps?repoId=${props.repo.id}#new` : "/settings/mcps"} class="button">
          {admin ? "Add one for this repository" : "All MCP servers"}
        </a>
      </div>
      <p class="hint">
        Its sessions' <code>.mcp.json</code> and chat agent get the enabled ones. A server of this repository's takes the
        place of a global one of the same name.
      </p>
      <McpServerList servers={shown} repoName={new Map([[props.repo.id, props.repo.name]])} admin={admin} replaced={replaced}
        back={`/repos/${props.repo.id}`} empty="None: no global MCP servers and none of this repository's." />
    </section>
  );
}
