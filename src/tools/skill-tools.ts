import { Type } from "@sinclair/typebox";
import { AppError } from "../infra/errors.ts";
import { MAX_CONTENT_BYTES } from "../skills/committed.ts";
import { skillPath } from "../skills/skill-file.ts";
import { ProposalInput } from "../skills/skills.ts";
import { defineTool } from "./tool.ts";

/**
 * The agent's tools on skills: it loads one its session has when it fits the work, and proposes a
 * new skill or a change, which waits for a person on the Skills page (the agent never changes one).
 */

export const loadSkill = defineTool({
  name: "load_skill",
  description: "Load one of this session's skills (listed in your instructions) by name: its full instructions, to follow for the work at hand.",
  input: Type.Object({ name: Type.String({ description: "The skill's name, e.g. release-notes." }) }),
  async run(ctx, { name }) {
    const available = ctx.skills.sessionSkills(ctx.actor);
    const skill = available.find((s) => s.name === name);
    if (!skill) {
      return {
        output: available.length
          ? `This session has no skill named ${name}. Its skills: ${available.map((s) => s.name).join(", ")}.`
          : "This session has no skills.",
        isError: true,
      };
    }
    // A skill the repository commits itself is what the worktree holds, and it wins over Pier's.
    const path = skillPath(skill.name);
    if (await ctx.files.tracked(path)) {
      const file = await ctx.files.read(path, MAX_CONTENT_BYTES);
      const cut = file.size > MAX_CONTENT_BYTES ? `\n[only the first ${MAX_CONTENT_BYTES} of ${file.size} bytes]` : "";
      return { output: `The repository commits its own ${path}, which wins over Pier's skill of that name:\n\n${file.content}${cut}`, isError: false };
    }
    return { output: `Skill ${skill.name} (${skill.category}): ${skill.description}\n\n${skill.content}`, isError: false };
  },
});

export const proposeSkill = defineTool({
  name: "propose_skill",
  description:
    "Propose a skill worth keeping: new instructions for a recurring kind of work, or better content for one of this session's skills (give its name). A person accepts or declines it on Pier's Skills page; nothing changes until then.",
  input: ProposalInput,
  async run(ctx, input) {
    try {
      const proposal = ctx.skills.propose(ctx.actor, input);
      const what = proposal.skillId ? `a change to the skill ${proposal.name}` : `a new ${proposal.repoId ? "skill for this repository" : "global skill"}, ${proposal.name}`;
      return { output: `Proposed ${what}. It waits for a person to accept or decline it on the Skills page (/skills); nothing changes until then.`, isError: false };
    } catch (error) {
      if (error instanceof AppError && error.status < 500) return { output: error.message, isError: true };
      throw error;
    }
  },
});
