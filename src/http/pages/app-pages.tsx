import { errorMessage } from "../../infra/errors.ts";
import { Elysia } from "elysia";
import { NewUserInput } from "../../auth/users.ts";
import { NewTokenInput } from "../../auth/tokens.ts";
import { PriceInput } from "../../costs/costs.ts";
import { asInput, type Input } from "../../infra/input.ts";
import type { Pier } from "../../pier.ts";
import { personActor } from "../../auth/actor.ts";
import { readInput } from "../../infra/input.ts";
import { AddRepoInput, RepoSettingsInput } from "../../repos/repos.ts";
import { PERSONAL_KEYS } from "../../settings/credentials.ts";
import { SECRET_KEYS } from "../../settings/settings.ts";
import { buildSentence } from "../../claude-code/builds.ts";
import { emptyForm, type FormState } from "../../../views/components.tsx";
import { SettingsPage, TokensPage, UsersPage } from "../../../views/admin-views.tsx";
import { RepoPage, ReposPage } from "../../../views/repo-views.tsx";
import { DashboardLive, DashboardPage } from "../../../views/dashboard-view.tsx";
import { dashboardProps } from "./dashboard.tsx";
import { type PageContext, formFailure, pageActor, pageAdmin, pageAdminActor, pageUser, redirectResponse } from "./respond.ts";
import { sessionRows } from "./session-pages.tsx";
import { repoSkillsSection, runRepoSkillForm } from "./skill-pages.tsx";
import type { RepoSkillsProps } from "../../../views/repo-skills.tsx";

/** The signed-in pages: dashboard, repositories, settings, API tokens and users. */
export function appPages(pier: Pier) {
  const common = { runtime: pier.runtime.kind };

  const reposPage = (ctx: PageContext, form: FormState) => (
    <ReposPage viewer={pageUser(pier, ctx)} {...common} repos={pier.repos.list()} form={form}
      allowLocalRepos={pier.config.allowLocalRepos} />
  );
  const repoPage = async (ctx: PageContext & { params: { id: string } }, form: FormState, saved = false, skillResult?: RepoSkillsProps["result"], rebuilding = false) => {
    const viewer = pageUser(pier, ctx);
    const repo = pier.repos.get(ctx.params.id);
    const environment = await pier.environments.view(personActor(viewer), repo.id).catch((error: unknown) => {
      console.warn(`[pier] the environment of ${repo.name} could not be read: ${errorMessage(error)}`);
      return null;
    });
    const values = {
      defaultBranch: repo.defaultBranch,
      image: repo.image ?? "",
      terminalCommand: repo.terminalCommand ?? "",
      githubRepo: repo.githubRepo ?? "",
      maxConcurrentRuns: repo.maxConcurrentRuns === null ? "" : String(repo.maxConcurrentRuns),
      devcontainerPath: repo.devcontainerPath ?? "",
      warmPods: String(repo.warmPods),
      setupScript: repo.setupScript ?? "",
      cleanupScript: repo.cleanupScript ?? "",
      ...form.values,
    };
    const sessions = sessionRows(pier, pier.sessions.list(personActor(viewer), { repoId: repo.id }));
    return (
      <RepoPage viewer={viewer} {...common} repo={repo} defaultImage={pier.config.workspaceImage} githubOrigin={pier.repoRules.github.origin}
        pod={pier.pods.view(repo.id, viewer.id)} toolPolicy={pier.policies.effective(repo.id)} mcpServers={pier.mcpServers.list(personActor(viewer))}
        sessions={sessions} form={{ ...form, values }} saved={saved} skills={await repoSkillsSection(pier, viewer, repo.id, skillResult)}
        environment={environment} rebuilding={rebuilding} />
    );
  };
  const settingsPage = async (ctx: PageContext, form: FormState, saved = false, priceForm: FormState = emptyForm, priceSaved = false) => (
    <SettingsPage viewer={pageAdmin(pier, ctx)} {...common} settings={await pier.settings.view()} form={form} saved={saved}
      claudeCodeProblems={(await pier.claudeCode.problems()).map((status) => buildSentence(status) ?? "")}
      prices={pier.costs.prices()} priceForm={priceForm} priceSaved={priceSaved} />
  );
  const tokensPage = async (
    ctx: PageContext,
    form: FormState,
    created?: { name: string; token: string },
    credentials: { form: FormState; saved: boolean } = { form: emptyForm, saved: false },
    notifications: { form: FormState; saved: boolean } = { form: emptyForm, saved: false },
  ) => {
    const viewer = pageUser(pier, ctx);
    const actor = personActor(viewer);
    return (
      <TokensPage viewer={viewer} {...common} tokens={pier.apiTokens.list(actor)} form={form} created={created}
        credentials={await pier.credentials.view(actor)} credentialsForm={credentials.form} credentialsSaved={credentials.saved}
        webhook={await pier.webhooks.view(actor)} notificationsForm={notifications.form} notificationsSaved={notifications.saved}
        identities={pier.sso.identities(actor)}
        devices={pier.push.devices(actor)} />
    );
  };
  const usersPage = (ctx: PageContext, form: FormState) => (
    <UsersPage viewer={pageAdmin(pier, ctx)} {...common} users={pier.users.list(personActor(pageAdmin(pier, ctx)))} form={form} />
  );

  return new Elysia()
    .get("/", (ctx) => {
      const props = dashboardProps(pier, pageUser(pier, ctx));
      // The live part alone, for the page to replace when the server says something changed.
      if (new URL(ctx.request.url).searchParams.get("part") === "live") return <DashboardLive {...props} />;
      return <DashboardPage {...props} {...common} />;
    })
    .get("/repos", (ctx) => reposPage(ctx, emptyForm))
    .post("/repos", (ctx) => {
      const actor = pageAdminActor(pier, ctx);
      try {
        const repo = pier.repos.add(actor, readInput(AddRepoInput, ctx.body));
        return redirectResponse(ctx.request, `/repos/${repo.id}`);
      } catch (error) {
        return reposPage(ctx, formFailure(error, ctx.body, ctx.set));
      }
    })
    .get("/repos/:id", (ctx) => repoPage(ctx, emptyForm))
    .post("/repos/:id/settings", (ctx) => {
      const actor = personActor(pageAdmin(pier, ctx));
      try {
        pier.repos.update(actor, ctx.params.id, readInput(RepoSettingsInput, ctx.body));
        return repoPage(ctx, emptyForm, true);
      } catch (error) {
        return repoPage(ctx, formFailure(error, ctx.body, ctx.set));
      }
    })
    .post("/repos/:id/environment/rebuild", (ctx) => {
      pier.environments.rebuild(personActor(pageUser(pier, ctx)), ctx.params.id);
      return repoPage(ctx, emptyForm, false, undefined, true);
    })
    .post("/repos/:id/skills/:form", async (ctx) => repoPage(ctx, emptyForm, false, await runRepoSkillForm(pier, ctx)))
    .post("/repos/:id/delete", async (ctx) => {
      await pier.repos.remove(pageAdminActor(pier, ctx), ctx.params.id);
      return redirectResponse(ctx.request, "/repos");
    })
    .get("/settings", (ctx) => settingsPage(ctx, emptyForm))
    .post("/settings", async (ctx) => {
      const actor = pageAdminActor(pier, ctx);
      try {
        await pier.settings.update(actor, settingsFromForm(asInput(ctx.body)));
        pier.claudeCode.versionChanged();
        return settingsPage(ctx, emptyForm, true);
      } catch (error) {
        return settingsPage(ctx, formFailure(error, ctx.body, ctx.set));
      }
    })
    .post("/settings/prices", async (ctx) => {
      const actor = personActor(pageAdmin(pier, ctx));
      try {
        pier.costs.setPrice(actor, readInput(PriceInput, ctx.body));
        return settingsPage(ctx, emptyForm, false, emptyForm, true);
      } catch (error) {
        return settingsPage(ctx, emptyForm, false, formFailure(error, ctx.body, ctx.set));
      }
    })
    .get("/tokens", (ctx) => tokensPage(ctx, emptyForm))
    .post("/tokens", (ctx) => {
      const actor = pageActor(pier, ctx);
      try {
        const { token, secret } = pier.apiTokens.create(actor, readInput(NewTokenInput, ctx.body));
        return tokensPage(ctx, emptyForm, { name: token.name, token: secret });
      } catch (error) {
        return tokensPage(ctx, formFailure(error, ctx.body, ctx.set));
      }
    })
    .post("/tokens/credentials", async (ctx) => {
      const actor = pageActor(pier, ctx);
      try {
        await pier.credentials.update(actor, secretsFromForm(asInput(ctx.body), PERSONAL_KEYS));
        return tokensPage(ctx, emptyForm, undefined, { form: emptyForm, saved: true });
      } catch (error) {
        return tokensPage(ctx, emptyForm, undefined, { form: formFailure(error, ctx.body, ctx.set), saved: false });
      }
    })
    .post("/tokens/notifications", async (ctx) => {
      const actor = pageActor(pier, ctx);
      const none = { form: emptyForm, saved: false };
      try {
        await pier.webhooks.update(actor, secretsFromForm(asInput(ctx.body), ["webhookUrl"]), new URL(ctx.request.url).origin);
        return tokensPage(ctx, emptyForm, undefined, none, { form: emptyForm, saved: true });
      } catch (error) {
        // A refused URL is not shown back: it may carry its hook's secret.
        const form = formFailure(error, {}, ctx.set);
        return tokensPage(ctx, emptyForm, undefined, none, { form, saved: false });
      }
    })
    .post("/tokens/:id/revoke", (ctx) => {
      pier.apiTokens.revoke(pageActor(pier, ctx), ctx.params.id);
      return redirectResponse(ctx.request, "/tokens");
    })
    .get("/users", (ctx) => usersPage(ctx, emptyForm))
    .post("/users", async (ctx) => {
      const actor = pageAdminActor(pier, ctx);
      try {
        await pier.users.create(actor, readInput(NewUserInput, ctx.body));
        return redirectResponse(ctx.request, "/users");
      } catch (error) {
        return usersPage(ctx, formFailure(error, ctx.body, ctx.set));
      }
    });
}

/**
 * Forms leave a secret field blank to keep the saved value, and have a checkbox to remove it;
 * the API instead treats "" as remove. This maps the first onto the second.
 */
function secretsFromForm(form: Input, keys: readonly string[]): Input {
  const update: Input = {};
  for (const key of keys) {
    if (form[`clear_${key}`] === "1") update[key] = "";
    else if (typeof form[key] === "string" && form[key] !== "") update[key] = form[key];
  }
  return update;
}

function settingsFromForm(form: Input): Input {
  const update = secretsFromForm(form, SECRET_KEYS);
  for (const key of ["defaultModel", "defaultEngine", "podMemoryMb", "podCpus", "podPidsLimit", "podIdleMinutes", "podNoNewPrivileges", "recordingLimitMiB", "prPollSeconds", "claudeCodeVersion", "monthlyBudgetUsd", "quietSeconds",
    "monthlyBudgetHard", "sessionBudgetUsd", "maxConcurrentRuns", "maxFixRounds", "runBudgetUsd", "runApprovalMinutes", "autoMerge", "mergeMethod", "auditRetentionDays"]) {
    if (typeof form[key] === "string") update[key] = form[key];
  }
  return update;
}
