import type { PublicProposal, PublicSkill } from "../src/skills/skills.ts";
import { SKILL_CATEGORIES } from "../src/skills/tables.ts";
import { Field, FormError, type FormState, HxForm, SelectField, TextArea, formatDate } from "./components.tsx";
import { Layout, type Viewer } from "./layout.tsx";

interface PageProps {
  viewer: Viewer;
  runtime: "docker" | "local";
}

/** A proposal as the page shows it: where it would go, who proposed it, and what it changes. */
export interface ProposalView {
  proposal: PublicProposal;
  /** The repo a new skill would belong to (null: global). */
  repoName: string | null;
  proposer: string | null;
  /** The skill it changes, as it is now, or null for a new one. */
  target: PublicSkill | null;
  /** The change as a unified diff, for a change. */
  diff: string | null;
}

export interface RepoSkills {
  repo: { id: string; name: string };
  skills: PublicSkill[];
}

const CATEGORY_OPTIONS: Array<[string, string]> = SKILL_CATEGORIES.map((c) => [c, c[0]!.toUpperCase() + c.slice(1)]);

/** The Skills page: proposals waiting, global skills, each repo's own, and (for admins) a new skill. */
export function SkillsPage(
  props: PageProps & { globals: PublicSkill[]; byRepo: RepoSkills[]; proposals: ProposalView[]; repos: Array<{ id: string; name: string }>; form: FormState; notice?: string; refusal?: string },
) {
  const admin = props.viewer.role === "admin";
  const pending = props.proposals.filter((p) => p.proposal.state === "pending");
  return (
    <Layout title="Skills" viewer={props.viewer} runtime={props.runtime} current="/skills" styles={["/public/skills.css"]}>
      <h1>Skills</h1>
      <p class="hint skills-intro">
        {"A skill is Markdown instructions the agent loads when they fit the work. Every session's worktree gets its enabled skills as "}
        <code>
          .claude/skills/<var>name</var>/SKILL.md
        </code>, kept out of git, so Claude Code in the terminal has them too. Global skills go
        to every repository that inherits them (a repository's page can choose instead); a repository's own skill wins over a global
        one of the same name, and a skill the repository commits itself wins over both.
      </p>
      {props.notice ? (
        <p class="notice" role="status" safe>
          {props.notice}
        </p>
      ) : (
        ""
      )}
      {props.refusal ? (
        <p class="form-error" role="alert" safe>
          {props.refusal}
        </p>
      ) : (
        ""
      )}
      {pending.length > 0 ? (
        <section class="card" aria-labelledby="proposals-heading">
          <h2 id="proposals-heading">Proposed by the agent</h2>
          <ul class="list">
            {pending.map((view) => (
              <ProposalItem view={view} viewer={props.viewer} />
            ))}
          </ul>
        </section>
      ) : (
        ""
      )}
      <section class="card" aria-labelledby="global-heading">
        <h2 id="global-heading">Global skills</h2>
        <SkillList skills={props.globals} admin={admin} empty="No global skills yet." />
      </section>
      {props.byRepo.map(({ repo, skills }) => (
        <section class="card" aria-label={`Skills of ${repo.name}`}>
          <div class="card-head">
            <h2>
              {"Only for "}
              <a href={`/repos/${repo.id}#skills`} safe>
                {repo.name}
              </a>
            </h2>
          </div>
          <SkillList skills={skills} admin={admin} empty="" />
        </section>
      ))}
      {admin ? (
        <section class="card" aria-labelledby="new-skill-heading" id="new-skill">
          <h2 id="new-skill-heading">New skill</h2>
          <HxForm action="/skills" label="New skill" class="grid-form">
            <SkillFields form={props.form} repos={props.repos} />
            <button type="submit" class="primary">
              Add skill
            </button>
          </HxForm>
        </section>
      ) : (
        <p class="hint">Only an admin adds and changes skills.</p>
      )}
    </Layout>
  );
}

/** One skill's page: its fields to edit (admins) or read, and deleting it. */
export function SkillPage(props: PageProps & { skill: PublicSkill; repoName: string | null; form: FormState; notice?: string }) {
  const { skill } = props;
  const admin = props.viewer.role === "admin";
  const values = { name: skill.name, category: skill.category, description: skill.descriptionGiven ? skill.description : "", content: skill.content, ...props.form.values };
  return (
    <Layout title={skill.name} viewer={props.viewer} runtime={props.runtime} current="/skills" styles={["/public/skills.css"]}>
      <p class="crumbs">
        <a href="/skills">Skills</a> /
      </p>
      <h1 class="mono" safe>
        {skill.name}
      </h1>
      <section class="card">
        <dl class="facts">
          <dt>For</dt>
          <dd>
            {props.repoName ? (
              <a href={`/repos/${skill.repoId}#skills`} safe>
                {props.repoName}
              </a>
            ) : (
              "Every repository that takes it (global)"
            )}
          </dd>
          <dt>In worktrees</dt>
          <dd class="mono wrap" safe>
            {`.claude/skills/${skill.name}/SKILL.md`}
          </dd>
          <dt>State</dt>
          <dd>{skill.enabled ? "Enabled" : "Off"}</dd>
          <dt>Changed</dt>
          <dd safe>{formatDate(new Date(skill.updatedAt))}</dd>
        </dl>
      </section>
      {props.notice ? (
        <p class="notice" role="status" safe>
          {props.notice}
        </p>
      ) : (
        ""
      )}
      {admin ? (
        <section class="card" aria-label="Edit skill">
          <HxForm action={`/skills/${skill.id}`} label="Edit skill" class="grid-form">
            <SkillFields form={{ ...props.form, values }} enabled={skill.enabled} derived={skill.descriptionGiven ? undefined : skill.description} />
            <button type="submit" class="primary">
              Save skill
            </button>
          </HxForm>
        </section>
      ) : (
        <section class="card" aria-label="Content">
          <p class="muted" safe>
            {`${skill.category} · ${skill.description}`}
          </p>
          <pre class="skill-content" safe>
            {skill.content}
          </pre>
        </section>
      )}
      {admin ? (
        <HxForm action={`/skills/${skill.id}/delete`} label="Delete skill" confirm={`Delete the skill ${skill.name}? Sessions lose its file within seconds.`}>
          <button type="submit" class="danger">
            Delete skill
          </button>
        </HxForm>
      ) : (
        ""
      )}
    </Layout>
  );
}

/** The fields of a skill: on the new skill form with its scope, on a skill's page without (a skill keeps its scope). */
function SkillFields(props: { form: FormState; repos?: Array<{ id: string; name: string }>; enabled?: boolean; derived?: string }) {
  const { form } = props;
  const enabled = form.values.enabled !== undefined ? form.values.enabled === "1" : (props.enabled ?? true);
  return (
    <>
      <FormError form={form} />
      <Field form={form} name="name" label="Name" required placeholder="release-notes" hint="Lowercase words joined by hyphens, at most 64 characters." />
      <SelectField form={form} name="category" label="Category" options={CATEGORY_OPTIONS} />
      {props.repos ? (
        <SelectField form={form} name="repoId" label="For" options={[["", "Every repository (global)"], ...props.repos.map((r): [string, string] => [r.id, `Only ${r.name}`])]} />
      ) : (
        ""
      )}
      <Field form={form} name="description" label="Description" placeholder={props.derived} hint="One line the agent sees in its list. Empty takes the content's first heading or first line." />
      <div class="grid-wide">
        <TextArea form={form} name="content" label="Content (Markdown)" rows={14} required placeholder={"# Release notes\n\nWhen asked for release notes, …"} />
      </div>
      <label class="check grid-wide">
        <input type="checkbox" name="enabled" value="1" checked={enabled} /> Enabled
      </label>
    </>
  );
}

function SkillList(props: { skills: PublicSkill[]; admin: boolean; empty: string }) {
  if (props.skills.length === 0) return props.empty ? (
      <p class="empty" safe>
        {props.empty}
      </p>
    ) : (
      ""
    );
  return (
    <ul class="list skill-list">
      {props.skills.map((skill) => (
        <li class="list-row skill-row" data-skill={skill.name}>
          <div class="skill-row-main">
            <a href={`/skills/${skill.id}`} class="list-title mono" safe>
              {skill.name}
            </a>{" "}
            <span class="pill">{skill.category}</span>
            {skill.enabled ? "" : <span class="pill skill-off">off</span>}
            <p class="hint" safe>
              {skill.description}
            </p>
          </div>
          {props.admin ? (
            <HxForm action={`/skills/${skill.id}/enabled`} label={`${skill.enabled ? "Turn off" : "Turn on"} ${skill.name}`}>
              <input type="hidden" name="enabled" value={skill.enabled ? "false" : "true"} />
              <button type="submit" class="small" aria-pressed={skill.enabled ? "true" : "false"}>
                {skill.enabled ? "On · turn off" : "Off · turn on"}
              </button>
            </HxForm>
          ) : (
            ""
          )}
        </li>
      ))}
    </ul>
  );
}

function ProposalItem(props: { view: ProposalView; viewer: Viewer }) {
  const { proposal, target, diff, repoName, proposer } = props.view;
  const admin = props.viewer.role === "admin";
  const what = target ? `A change to ${target.repoId ? `${repoName ?? "a repository"}'s` : "the global"} skill` : repoName ? `A new skill for ${repoName}` : "A new global skill";
  return (
    <li class="proposal" data-proposal={proposal.id}>
      <div class="card-head">
        <h3 class="mono" safe>
          {proposal.name}
        </h3>
        <span class="pill">{proposal.category}</span>
      </div>
      <p class="hint" safe>
        {`${what}, proposed by the agent in session ${proposal.sessionId.slice(0, 8)}${proposer ? ` (${proposer}'s)` : ""} on ${formatDate(new Date(proposal.createdAt))}.`}
      </p>
      {proposal.reason ? (
        <p class="proposal-reason" safe>
          {proposal.reason}
        </p>
      ) : (
        ""
      )}
      <details open>
        <summary>{diff ? "What changes" : "Content"}</summary>
        {diff ? <Diff patch={diff} /> : <pre class="skill-content" safe>{proposal.content}</pre>}
      </details>
      <div class="actions">
        {admin ? (
          <HxForm action={`/skills/proposals/${proposal.id}/accept`} label={`Accept ${proposal.name}`}>
            <button type="submit" class="primary">
              Accept
            </button>
          </HxForm>
        ) : (
          <p class="hint">Waits for an admin to accept it.</p>
        )}
        <HxForm action={`/skills/proposals/${proposal.id}/decline`} label={`Decline ${proposal.name}`}>
          <button type="submit">Decline</button>
        </HxForm>
      </div>
    </li>
  );
}

/** A unified diff, a line each, coloured by what the line does. */
function Diff(props: { patch: string }) {
  const lines = props.patch.split("\n").filter((line, i, all) => !(i === all.length - 1 && line === "") && !line.startsWith("====="));
  const kind = (line: string) =>
    line.startsWith("+++") || line.startsWith("---") ? "diff-meta" : line.startsWith("+") ? "diff-add" : line.startsWith("-") ? "diff-del" : line.startsWith("@@") ? "diff-hunk" : "";
  return (
    <pre class="skill-content skill-diff">
      {lines.map((line) => (
        <span class={kind(line)} safe>
          {line}
        </span>
      ))}
    </pre>
  );
}
