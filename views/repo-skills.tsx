import type { CommittedSkills } from "../src/skills/committed.ts";
import type { SkillPolicyView } from "../src/skills/skills.ts";
import { FormError, type FormState, HxForm } from "./components.tsx";
import type { Viewer } from "./layout.tsx";

/** Which of the section's forms a notice or an error belongs to. */
export type RepoSkillForm = "policy" | "import";

export interface RepoSkillsProps {
  repoId: string;
  viewer: Viewer;
  policy: SkillPolicyView;
  /** The skills the repository commits, or why they could not be read. */
  committed: CommittedSkills | { error: string };
  /** The outcome of the form just sent, if any. */
  result?: { form: RepoSkillForm; state: FormState; notice?: string };
}

/**
 * A repository's skills on its page: its policy (inherit the enabled global skills, or choose),
 * what its sessions get, its own skills, and the skills it commits itself (which win, and can be
 * imported into Pier).
 */
export function RepoSkillsSection(props: RepoSkillsProps) {
  const { policy, repoId } = props;
  const admin = props.viewer.role === "admin";
  const committed = "error" in props.committed ? null : props.committed;
  const committedNames = new Set((committed?.skills ?? []).map((s) => s.dir));
  const own = new Set(policy.own.map((s) => s.name));
  const resultOf = (form: RepoSkillForm) => (props.result?.form === form ? props.result : undefined);
  return (
    <section class="card repo-skills" id="skills" aria-labelledby="skills-heading">
      <div class="card-head">
        <h2 id="skills-heading">Skills</h2>
        <a href="/skills">All skills</a>
      </div>

      <h3>What its sessions get</h3>
      {policy.effective.length === 0 ? (
        <p class="empty">No skills: its sessions' worktrees get none from Pier.</p>
      ) : (
        <ul class="list" aria-label="Skills its sessions get">
          {policy.effective.map((skill) => (
            <li class="list-row" data-skill={skill.name}>
              <a href={`/skills/${skill.id}`} class="mono" safe>
                {skill.name}
              </a>
              <span class="pill">{skill.scope === "repo" ? "this repository" : "global"}</span>
              {committedNames.has(skill.name) ? (
                <span class="pill skill-wins">the repository's own wins</span>
              ) : (
                ""
              )}
              <span class="hint" safe>
                {skill.description}
              </span>
            </li>
          ))}
        </ul>
      )}

      <h3>Global skills</h3>
      <Outcome result={resultOf("policy")} />
      {admin ? (
        <HxForm action={`/repos/${repoId}/skills/policy`} label="Skill policy">
          <fieldset class="skill-policy">
            <legend>Policy</legend>
            <label class="check">
              <input type="radio" name="mode" value="inherit" checked={policy.mode === "inherit"} />
              <span>Inherit: every globally enabled skill</span>
            </label>
            <label class="check">
              <input type="radio" name="mode" value="custom" checked={policy.mode === "custom"} />
              <span>Choose: each global skill on or off for this repository</span>
            </label>
          </fieldset>
          {policy.globals.length === 0 ? (
            <p class="empty">No global skills yet.</p>
          ) : (
            <fieldset class="skill-choices">
              <legend>On for this repository (when choosing)</legend>
              {policy.globals.map((skill) => (
                <label class="check">
                  <input type="checkbox" name="on" value={skill.id} checked={policy.mode === "custom" ? skill.on : skill.enabled} />
                  <span class="mono" safe>
                    {skill.name}
                  </span>
                  {skill.enabled ? "" : <span class="pill skill-off">off globally</span>}
                </label>
              ))}
            </fieldset>
          )}
          <button type="submit" class="primary">
            Save policy
          </button>
        </HxForm>
      ) : (
        <p>
          {policy.mode === "inherit" ? "This repository inherits every globally enabled skill." : "This repository chooses its global skills."} Only an admin
          changes it.
        </p>
      )}

      <h3>Its own skills</h3>
      {policy.own.length === 0 ? (
        <p class="empty">None yet.</p>
      ) : (
        <ul class="list" aria-label="Its own skills">
          {policy.own.map((skill) => (
            <li class="list-row">
              <a href={`/skills/${skill.id}`} class="mono" safe>
                {skill.name}
              </a>
              {skill.enabled ? "" : <span class="pill skill-off">off</span>}
              <span class="hint" safe>
                {skill.description}
              </span>
            </li>
          ))}
        </ul>
      )}
      {admin ? (
        <p>
          <a href={`/skills?repoId=${repoId}#new-skill`}>Add a skill for this repository</a>
        </p>
      ) : (
        ""
      )}

      <h3>Committed in the repository</h3>
      <Outcome result={resultOf("import")} />
      <CommittedList {...props} own={own} />
    </section>
  );
}

function Outcome(props: { result?: { state: FormState; notice?: string } }) {
  if (!props.result) return "";
  return props.result.notice ? (
    <p class="notice" role="status" safe>
      {props.result.notice}
    </p>
  ) : (
    <FormError form={{ values: {}, error: props.result.state.error ? { message: props.result.state.error.message } : undefined }} />
  );
}

function CommittedList(props: RepoSkillsProps & { own: Set<string> }) {
  const admin = props.viewer.role === "admin";
  const refresh = admin ? (
    <HxForm action={`/repos/${props.repoId}/skills/refresh`} label="Fetch the repository">
      <button type="submit" class="small">
        Fetch the latest from the remote
      </button>
    </HxForm>
  ) : (
    ""
  );
  if ("error" in props.committed) {
    return (
      <>
        <p class="form-error" role="alert" safe>
          {`The repository's skills could not be read: ${props.committed.error}`}
        </p>
        {refresh}
      </>
    );
  }
  const committed = props.committed;
  if (!committed.fetched) {
    return (
      <>
        <p class="empty">Pier has not fetched this repository yet; it does when its first session starts.</p>
        {refresh}
      </>
    );
  }
  const intro = (
    <p class="hint" safe>
      {`Skills under .claude/skills on ${committed.branch}, as Pier's copy of the repository has them. In a session, the repository's own file wins over Pier's skill of the same name, which is then not written.`}
    </p>
  );
  if (committed.skills.length === 0) {
    return (
      <>
        <p class="empty" safe>{`It commits no skills on ${committed.branch}.`}</p>
        {refresh}
      </>
    );
  }
  const rows = committed.skills.map((skill) => {
    const imported = skill.name !== null && props.own.has(skill.name);
    const importable = admin && !skill.problem && !imported;
    return (
      <li class="list-row committed-skill" data-committed={skill.dir}>
        <label class="check">
          {importable ? <input type="checkbox" name="names" value={skill.name ?? ""} /> : ""}
          <span class="mono" safe>
            {`.claude/skills/${skill.dir}`}
          </span>
        </label>
        {skill.name && skill.name !== skill.dir ? (
          <span class="pill" safe>
            {`as ${skill.name}`}
          </span>
        ) : (
          ""
        )}
        {imported ? <span class="pill">in Pier</span> : ""}
        <span class="hint" safe>
          {skill.problem ?? skill.description}
        </span>
      </li>
    );
  });
  const importable = committed.skills.filter((s) => !s.problem && !(s.name && props.own.has(s.name))).length;
  const list = <ul class="list">{rows}</ul>;
  return (
    <>
      {intro}
      <details class="committed" open={committed.skills.length <= 8}>
        <summary safe>{`${committed.skills.length}${committed.truncated ? "+" : ""} committed on ${committed.branch}, ${importable} to import`}</summary>
        {admin ? (
          <HxForm action={`/repos/${props.repoId}/skills/import`} label="Import skills">
            {list}
            {committed.truncated ? <p class="hint">Only the first 50 skill directories are shown.</p> : ""}
            <button type="submit">Import the ticked ones as this repository's skills</button>
          </HxForm>
        ) : (
          list
        )}
      </details>
      {refresh}
    </>
  );
}
