import { Elysia } from "elysia";
import { personActor } from "../../auth/actor.ts";
import { type Input, asInput, readInput } from "../../infra/input.ts";
import type { Pier } from "../../pier.ts";
import { ToolPolicyInput } from "../../policies/policy.ts";
import { builtInTools } from "../../tools/registry.ts";
import { emptyForm, type FormState } from "../../../views/components.tsx";
import { RepoToolPolicyPage, ToolPolicyPage } from "../../../views/tool-policy-views.tsx";
import { type PageContext, formFailure, pageAdmin, pageUser } from "./respond.ts";

/** The tool policy pages: the instance's (Settings), and each repo's override. Plain forms; htmx only speeds them up. */
export function policyPages(pier: Pier) {
  const common = { runtime: pier.runtime.kind };
  const knownTools = () => builtInTools.tools.map((tool) => tool.name);

  const globalPage = (ctx: PageContext, form: FormState, saved = false) => {
    const viewer = pageUser(pier, ctx);
    return (
      <ToolPolicyPage viewer={viewer} {...common} policy={pier.policies.global(personActor(viewer))} form={form} saved={saved}
        knownTools={knownTools()} />
    );
  };
  const repoPage = (ctx: PageContext & { params: { id: string } }, form: FormState, saved = false) => {
    const viewer = pageUser(pier, ctx);
    const repo = pier.repos.get(ctx.params.id);
    return (
      <RepoToolPolicyPage viewer={viewer} {...common} repo={repo} policy={pier.policies.forRepo(personActor(viewer), repo.id)}
        effective={pier.policies.effective(repo.id)} form={form} saved={saved} knownTools={knownTools()} />
    );
  };

  return new Elysia()
    .get("/settings/tool-policy", (ctx) => globalPage(ctx, emptyForm))
    .post("/settings/tool-policy", (ctx) => {
      const actor = personActor(pageAdmin(pier, ctx));
      try {
        pier.policies.setGlobal(actor, readInput(ToolPolicyInput, policyFromForm(asInput(ctx.body))));
        return globalPage(ctx, emptyForm, true);
      } catch (error) {
        return globalPage(ctx, formFailure(error, ctx.body, ctx.set));
      }
    })
    .get("/repos/:id/tool-policy", (ctx) => repoPage(ctx, emptyForm))
    .post("/repos/:id/tool-policy", (ctx) => {
      const actor = personActor(pageAdmin(pier, ctx));
      try {
        const form = asInput(ctx.body);
        const input = form.mode === "inherit" ? null : readInput(ToolPolicyInput, policyFromForm(form));
        pier.policies.setForRepo(actor, ctx.params.id, input);
        return repoPage(ctx, emptyForm, true);
      } catch (error) {
        return repoPage(ctx, formFailure(error, ctx.body, ctx.set));
      }
    });
}

/** The form's lists are text, one name per line (commas and spaces also part names); the API takes arrays. */
function policyFromForm(form: Input): Input {
  const list = (value: unknown) => (typeof value === "string" ? value.split(/[\s,]+/).filter(Boolean) : []);
  return { mode: form.mode, allowed: list(form.allowed), denied: list(form.denied), ask: list(form.ask) };
}
