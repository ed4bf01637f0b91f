import { Elysia } from "elysia";
import { personActor } from "../../auth/actor.ts";
import { type Input, asInput, readInput } from "../../infra/input.ts";
import type { Pier } from "../../pier.ts";
import { NewTriggerInput, type PublicTrigger } from "../../triggers/triggers.ts";
import { emptyForm, type FormState } from "../../../views/components.tsx";
import { AutomationPage, TriggerPage, triggerFormValues } from "../../../views/automation-views.tsx";
import { type PageContext, formFailure, pageUser, redirectResponse } from "./respond.ts";

/** Settings → Automation: a person's triggers (an admin's: everyone's), each with its form and firings. */
export function automationPages(pier: Pier) {
  const { triggers } = pier;
  const common = { runtime: pier.runtime.kind };
  const fireUrl = (request: Request, id: string) => `${new URL(request.url).origin}/api/triggers/${id}/fire`;

  const listPage = (ctx: PageContext, form: FormState, created?: { trigger: PublicTrigger; secret: string }, notice?: string) => {
    const viewer = pageUser(pier, ctx);
    return (
      <AutomationPage viewer={viewer} {...common} triggers={triggers.list(personActor(viewer))} repos={pier.repos.list()} form={form} notice={notice}
        created={created ? { ...created, fireUrl: fireUrl(ctx.request, created.trigger.id) } : undefined} />
    );
  };
  const triggerPage = (ctx: PageContext & { params: { id: string } }, form?: FormState, newSecret?: string) => {
    const viewer = pageUser(pier, ctx);
    const actor = personActor(viewer);
    const trigger = triggers.get(actor, ctx.params.id);
    const repo = pier.repos.list().find((candidate) => candidate.id === trigger.repoId) ?? null;
    return (
      <TriggerPage viewer={viewer} {...common} trigger={trigger} repo={repo} form={form ?? { values: triggerFormValues(trigger) }}
        firings={triggers.firings(actor, trigger.id)} fireUrl={fireUrl(ctx.request, trigger.id)} newSecret={newSecret} />
    );
  };
  const failure = (error: unknown, ctx: { body: unknown; set: { status?: number | string } }): FormState => {
    const form = formFailure(error, ctx.body, ctx.set);
    return { ...form, values: { ...form.values, enabled: asInput(ctx.body).enabled === "1" ? "1" : "0" } };
  };

  return new Elysia()
    .get("/settings/automation", (ctx) => listPage(ctx, emptyForm))
    .post("/settings/automation", (ctx) => {
      const actor = personActor(pageUser(pier, ctx));
      try {
        const { trigger, secret } = triggers.create(actor, readInput(NewTriggerInput, fromForm(asInput(ctx.body), true)));
        return listPage(ctx, emptyForm, secret ? { trigger, secret } : undefined, secret ? undefined : `Added ${trigger.name}.`);
      } catch (error) {
        return listPage(ctx, failure(error, ctx));
      }
    })
    .get("/settings/automation/:id", (ctx) => triggerPage(ctx))
    .post("/settings/automation/:id", (ctx) => {
      const actor = personActor(pageUser(pier, ctx));
      try {
        triggers.update(actor, ctx.params.id, fromForm(asInput(ctx.body), false));
        return redirectResponse(ctx.request, `/settings/automation/${ctx.params.id}`);
      } catch (error) {
        return triggerPage(ctx, failure(error, ctx));
      }
    })
    .post("/settings/automation/:id/secret", (ctx) => {
      const { secret } = triggers.replaceSecret(personActor(pageUser(pier, ctx)), ctx.params.id);
      return triggerPage(ctx, undefined, secret);
    })
    .post("/settings/automation/:id/delete", (ctx) => {
      triggers.remove(personActor(pageUser(pier, ctx)), ctx.params.id);
      return redirectResponse(ctx.request, "/settings/automation");
    });
}

/**
 * The form's fields as the API's input: empty fields left out when adding and cleared (null) when
 * saving, numbers read as numbers (text that is not one stays text, for its field's own error),
 * logins one per line, the checkbox as a boolean.
 */
function fromForm(form: Input, adding: boolean): Input {
  const input: Input = { enabled: form.enabled === "1" };
  const empty = adding ? undefined : null;
  for (const name of ["kind", "repoId", "name", "promptTemplate", "cron", "label", "mention", "engine", "model"]) {
    if (typeof form[name] !== "string") continue;
    input[name] = form[name] === "" ? empty : form[name];
  }
  for (const name of ["budgetUsd", "dailyBudgetUsd", "maxConcurrent"]) {
    const text = typeof form[name] === "string" ? (form[name] as string).trim() : "";
    input[name] = text === "" ? empty : Number.isFinite(Number(text)) ? Number(text) : text;
  }
  if (typeof form.allowedLogins === "string") {
    const logins = form.allowedLogins.split(/[\s,]+/).filter(Boolean);
    input.allowedLogins = logins.length > 0 || !adding ? logins : undefined;
  }
  return input;
}
