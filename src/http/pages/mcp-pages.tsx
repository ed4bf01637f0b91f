import { Elysia } from "elysia";
import { personActor } from "../../auth/actor.ts";
import { invalid } from "../../infra/errors.ts";
import { asInput, type Input, readInput } from "../../infra/input.ts";
import { MCP_SERVER_NAME, McpServerChangesInput, NewMcpServerInput } from "../../mcp-servers/mcp-servers.ts";
import type { Pier } from "../../pier.ts";
import { emptyForm, type FormState } from "../../../views/components.tsx";
import { McpServerPage, McpServersPage, mcpFormValues } from "../../../views/mcp-views.tsx";
import { type PageContext, formFailure, isHtmx, pageAdmin, pageUser, redirectResponse } from "./respond.ts";

/** Where a toggle may send the browser back to: the list, or a repo's page. */
const BACK = /^\/repos\/[A-Za-z0-9_-]+$/;

/** The MCP servers' pages: everyone signed in sees the list; admins add, change, toggle and remove. */
export function mcpServerPages(pier: Pier) {
  const { mcpServers } = pier;
  const common = { runtime: pier.runtime.kind };

  const listPage = (ctx: PageContext, form: FormState, notice?: string) => {
    const viewer = pageUser(pier, ctx);
    return (
      <McpServersPage viewer={viewer} {...common} servers={mcpServers.list(personActor(viewer))} repos={pier.repos.list()}
        form={form} notice={notice} />
    );
  };
  const serverPage = (ctx: PageContext & { params: { id: string } }, form?: FormState) => {
    const viewer = pageAdmin(pier, ctx);
    const server = mcpServers.get(personActor(viewer), ctx.params.id);
    const repo = server.repoId ? pier.repos.get(server.repoId) : null;
    return <McpServerPage viewer={viewer} {...common} server={server} repo={repo} form={form ?? { values: mcpFormValues(server) }} />;
  };
  /** A failed form, shown again without any environment value that was typed into it. */
  const failure = (error: unknown, ctx: { body: unknown; set: { status?: number | string } }): FormState => {
    const form = formFailure(error, ctx.body, ctx.set);
    const values = asInput(ctx.body);
    return { ...form, values: { ...form.values, env: withoutTypedValues(values.env), enabled: values.enabled === "1" ? "1" : "0" } };
  };

  return new Elysia()
    .get("/settings/mcps", (ctx) => {
      const { repoId, saved } = ctx.query as Record<string, string | undefined>;
      const notice = saved && MCP_SERVER_NAME.test(saved) ? `Saved ${saved}. Live sessions get the change within seconds; the chat's agent at its next turn.` : undefined;
      return listPage(ctx, repoId ? { values: { repoId } } : emptyForm, notice);
    })
    .post("/settings/mcps", async (ctx) => {
      const actor = personActor(pageAdmin(pier, ctx));
      try {
        const server = await mcpServers.create(actor, readInput(NewMcpServerInput, fromForm(asInput(ctx.body))));
        return listPage(ctx, emptyForm, `Added ${server.name}. Live sessions get it within seconds.`);
      } catch (error) {
        return listPage(ctx, failure(error, ctx));
      }
    })
    .get("/settings/mcps/:id", (ctx) => serverPage(ctx))
    .post("/settings/mcps/:id", async (ctx) => {
      const actor = personActor(pageAdmin(pier, ctx));
      try {
        const server = await mcpServers.update(actor, ctx.params.id, readInput(McpServerChangesInput, fromForm(asInput(ctx.body))));
        return redirectResponse(ctx.request, `/settings/mcps?saved=${server.name}`);
      } catch (error) {
        return serverPage(ctx, failure(error, ctx));
      }
    })
    .post("/settings/mcps/:id/enabled", async (ctx) => {
      const form = asInput(ctx.body);
      await mcpServers.update(personActor(pageAdmin(pier, ctx)), ctx.params.id, { enabled: form.enabled === "1" });
      if (typeof form.back !== "string" || !BACK.test(form.back)) return redirectResponse(ctx.request, "/settings/mcps");
      // A plain form lands on the section; htmx must load the page again, which a new #fragment alone would not.
      return redirectResponse(ctx.request, isHtmx(ctx.request) ? form.back : `${form.back}#mcp-servers`);
    })
    .post("/settings/mcps/:id/delete", (ctx) => {
      mcpServers.remove(personActor(pageAdmin(pier, ctx)), ctx.params.id);
      return redirectResponse(ctx.request, "/settings/mcps");
    });
}

/**
 * The form's fields as the API's input: arguments one per line (blank lines skipped), the
 * environment as NAME=value lines (a masked value keeps the saved one), the checkbox as a boolean.
 */
function fromForm(form: Input): Input {
  const lines = (text: unknown) =>
    String(text ?? "")
      .split("\n")
      .map((line) => line.replace(/\r$/, ""));
  const env: Record<string, string> = {};
  for (const [i, line] of lines(form.env).entries()) {
    if (!line.trim()) continue;
    const eq = line.indexOf("=");
    if (eq <= 0) throw invalid("env", `Environment line ${i + 1} must be NAME=value.`);
    const name = line.slice(0, eq).trim();
    if (name in env) throw invalid("env", `${name} is given twice in the environment.`);
    env[name] = line.slice(eq + 1);
  }
  return {
    name: form.name,
    command: form.command,
    args: lines(form.args).filter((line) => line.trim() !== ""),
    env,
    enabled: form.enabled === "1",
    ...(typeof form.repoId === "string" && form.repoId ? { repoId: form.repoId } : {}),
  };
}

/** Environment lines as the form shows them again after a failure: saved (masked) values stay, typed ones are left out. */
function withoutTypedValues(text: unknown): string {
  return String(text ?? "")
    .split("\n")
    .map((line) => line.replace(/\r$/, ""))
    .filter((line) => line.trim())
    .map((line) => {
      const eq = line.indexOf("=");
      if (eq <= 0) return "";
      const value = line.slice(eq + 1);
      return value.startsWith("••••••••") ? line : `${line.slice(0, eq)}=`;
    })
    .filter(Boolean)
    .join("\n");
}
