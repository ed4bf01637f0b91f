import { Elysia } from "elysia";
import { type Actor, personActor } from "../../auth/actor.ts";
import type { User } from "../../auth/user.ts";
import { AppError } from "../../infra/errors.ts";
import { asInput, type Input, readInput } from "../../infra/input.ts";
import type { Pier } from "../../pier.ts";
import { ImportSkillsInput, NewSkillInput, SkillChangesInput, SkillPolicyInput } from "../../skills/skills.ts";
import { unifiedDiff } from "../../tools/output.ts";
import { emptyForm, type FormState } from "../../../views/components.tsx";
import type { RepoSkillForm, RepoSkillsProps } from "../../../views/repo-skills.tsx";
import { type ProposalView, SkillPage, SkillsPage } from "../../../views/skill-views.tsx";
import { type PageContext, formFailure, isHtmx, pageUser, redirectResponse } from "./respond.ts";

type FormContext = PageContext & { params: Record<string, string>; body: unknown; set: { status?: number | string } };

/** The Skills page, each skill's page, and the proposals' Accept and Decline. */
export function skillPages(pier: Pier) {
  const common = { runtime: pier.runtime.kind };
  const { skills } = pier;

  const skillsPage = (ctx: PageContext, viewer: User, outcome: { form?: FormState; notice?: string; refusal?: string } = {}) => {
    const actor = personActor(viewer);
    const repos = pier.repos.list();
    const all = skills.list(actor);
    const repoId = new URL(ctx.request.url).searchParams.get("repoId") ?? "";
    return (
      <SkillsPage viewer={viewer} {...common}
        globals={all.filter((s) => s.repoId === null)}
        byRepo={repos.map((repo) => ({ repo, skills: all.filter((s) => s.repoId === repo.id) })).filter((group) => group.skills.length > 0)}
        proposals={skills.proposals(actor, { state: "pending" }).map((proposal) => proposalView(pier, proposal, repos))}
        repos={repos} form={outcome.form ?? { values: { repoId, category: "coding" } }} notice={outcome.notice} refusal={outcome.refusal} />
    );
  };
  const skillPage = (viewer: User, id: string, form: FormState = emptyForm, notice?: string) => {
    const skill = skills.get(personActor(viewer), id);
    const repoName = skill.repoId ? (pier.repos.list().find((r) => r.id === skill.repoId)?.name ?? null) : null;
    return <SkillPage viewer={viewer} {...common} skill={skill} repoName={repoName} form={form} notice={notice} />;
  };

  /** An action of the Skills page's lists: the page again with its notice, or with the refusal. */
  const listAction = (ctx: FormContext, act: (actor: Actor) => string) => {
    const viewer = pageUser(pier, ctx);
    try {
      const notice = act(personActor(viewer));
      return isHtmx(ctx.request) ? skillsPage(ctx, viewer, { notice }) : redirectResponse(ctx.request, "/skills");
    } catch (error) {
      return skillsPage(ctx, viewer, { refusal: formFailure(error, ctx.body, ctx.set).error?.message });
    }
  };

  return new Elysia()
    .get("/skills", (ctx) => skillsPage(ctx, pageUser(pier, ctx)))
    .post("/skills", (ctx) => {
      const viewer = pageUser(pier, ctx);
      const body = withCheckbox(ctx.body);
      try {
        const skill = skills.create(personActor(viewer), readInput(NewSkillInput, { ...body, enabled: body.enabled === "1" }));
        return skillsPage(ctx, viewer, { notice: `Added the skill ${skill.name}. Sessions get it within seconds.` });
      } catch (error) {
        return skillsPage(ctx, viewer, { form: formFailure(error, body, ctx.set) });
      }
    })
    .post("/skills/proposals/:id/accept", (ctx) =>
      listAction(ctx, (actor) => `Accepted: the skill ${skills.accept(actor, ctx.params.id).skill.name} is saved, and sessions get it within seconds.`),
    )
    .post("/skills/proposals/:id/decline", (ctx) => listAction(ctx, (actor) => `Declined the proposed skill ${skills.decline(actor, ctx.params.id).name}.`))
    .get("/skills/:id", (ctx) => skillPage(pageUser(pier, ctx), ctx.params.id))
    .post("/skills/:id", (ctx) => {
      const viewer = pageUser(pier, ctx);
      const body = withCheckbox(ctx.body);
      try {
        const { name, category, description, content } = body;
        skills.update(personActor(viewer), ctx.params.id, readInput(SkillChangesInput, { name, category, description, content, enabled: body.enabled === "1" }));
        return skillPage(viewer, ctx.params.id, emptyForm, "Saved. Sessions have the new version within seconds.");
      } catch (error) {
        return skillPage(viewer, ctx.params.id, formFailure(error, body, ctx.set));
      }
    })
    .post("/skills/:id/enabled", (ctx) =>
      listAction(ctx, (actor) => {
        const skill = skills.update(actor, ctx.params.id, { enabled: asInput(ctx.body).enabled === "true" });
        return `${skill.name} is ${skill.enabled ? "on" : "off"}.`;
      }),
    )
    .post("/skills/:id/delete", (ctx) => {
      skills.remove(personActor(pageUser(pier, ctx)), ctx.params.id);
      return redirectResponse(ctx.request, "/skills");
    });
}

/** The form's Enabled checkbox as "1" or "0" (an unticked box sends nothing), so a failed form shows it as it was. */
function withCheckbox(body: unknown): Input {
  const input = asInput(body);
  return { ...input, enabled: input.enabled === "1" ? "1" : "0" };
}

function proposalView(pier: Pier, proposal: ProposalView["proposal"], repos: Array<{ id: string; name: string }>): ProposalView {
  const target = pier.skills.proposalTarget(proposal);
  const repoId = target ? target.repoId : proposal.repoId;
  return {
    proposal,
    target,
    repoName: repoId ? (repos.find((r) => r.id === repoId)?.name ?? null) : null,
    proposer: proposal.userId ? (pier.users.find(proposal.userId)?.username ?? null) : null,
    diff: target ? unifiedDiff(`${target.name}/SKILL.md`, target.content, proposal.content) : null,
  };
}

/** What the Skills section of a repository's page shows, with the outcome of its form just sent. */
export async function repoSkillsSection(pier: Pier, viewer: User, repoId: string, result?: RepoSkillsProps["result"]): Promise<RepoSkillsProps> {
  const actor = personActor(viewer);
  const committed = await pier.skills.committed(actor, repoId).catch((error: unknown) => ({ error: error instanceof Error ? error.message : String(error) }));
  return { repoId, viewer, policy: pier.skills.policy(actor, repoId), committed, result };
}

/**
 * Runs one of the repository page's skill forms (`policy`, `import`, `refresh`) and says how it
 * went, for the page drawn again around it.
 */
export async function runRepoSkillForm(pier: Pier, ctx: FormContext & { params: { id: string; form: string } }): Promise<RepoSkillsProps["result"]> {
  const actor = personActor(pageUser(pier, ctx));
  const repoId = ctx.params.id;
  const form: RepoSkillForm = ctx.params.form === "policy" ? "policy" : "import";
  const body = asInput(ctx.body);
  try {
    if (ctx.params.form === "policy") {
      const ticked = new Set(list(body.on));
      const globals = pier.skills.policy(actor, repoId).globals;
      // Choosing, every global skill is on the form and a box left unticked is off; inheriting keeps the earlier choices for later.
      const choices = body.mode === "custom" ? Object.fromEntries(globals.map((g) => [g.id, ticked.has(g.id)])) : undefined;
      const policy = pier.skills.setPolicy(actor, repoId, readInput(SkillPolicyInput, { mode: body.mode, skills: choices }));
      return { form, state: emptyForm, notice: `Saved: ${policy.mode === "inherit" ? "it inherits the enabled global skills" : "it takes the global skills ticked"}. Its sessions follow within seconds.` };
    }
    if (ctx.params.form === "import") {
      const imported = await pier.skills.importCommitted(actor, repoId, readInput(ImportSkillsInput, { names: list(body.names) }));
      return { form, state: emptyForm, notice: `Imported ${imported.map((s) => s.name).join(", ")} as this repository's skills.` };
    }
    if (ctx.params.form === "refresh") {
      await pier.skills.refreshCommitted(actor, repoId);
      return { form, state: emptyForm, notice: "Fetched the latest from the remote." };
    }
    throw new AppError(404, "not_found", "There is nothing at this address.");
  } catch (error) {
    if (error instanceof AppError && error.status === 404) throw error;
    if (error instanceof AppError && error.code === "fetch_failed") {
      ctx.set.status = error.status;
      return { form, state: { values: {}, error: { message: error.message } } };
    }
    return { form, state: formFailure(error, ctx.body, ctx.set) };
  }
}

/** A form field sent once (a string) or several times (an array) as a list. */
function list(value: unknown): string[] {
  return (Array.isArray(value) ? value : value === undefined ? [] : [value]).filter((v): v is string => typeof v === "string");
}
