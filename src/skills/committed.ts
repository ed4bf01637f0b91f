import type { Mirrors } from "../repos/mirrors.ts";
import type { Repo } from "../repos/repos.ts";
import { SKILL_CATEGORIES, type SkillCategory } from "./tables.ts";
import { describeContent, oneLine, readSkillFile } from "./skill-file.ts";

/** A skill name: lowercase words of letters and digits joined by single hyphens, at most 64 characters. */
export const SKILL_NAME = /^[a-z0-9]+(-[a-z0-9]+)*$/;
export const MAX_NAME = 64;
/** A skill's content, in UTF-8 bytes. */
export const MAX_CONTENT_BYTES = 64 * 1024;

export function isSkillName(name: string): boolean {
  return name.length <= MAX_NAME && SKILL_NAME.test(name);
}

/** At most this many of a repository's skill directories are looked at. */
export const MAX_COMMITTED = 50;
/** The listing of .claude/skills stops after this many bytes (a few hundred entries). */
const MAX_LISTING_BYTES = 64 * 1024;

/** A skill a repository commits itself (.claude/skills/<dir>/SKILL.md on its default branch), as the mirror has it. */
export interface CommittedSkill {
  /** Its directory under .claude/skills: the name Claude Code knows it by. */
  dir: string;
  /** The name it would have in Pier (its front matter's, else its directory's), or null when neither is a valid name. */
  name: string | null;
  description: string;
  /** The description is its front matter's (else it was taken from its content). */
  descriptionGiven: boolean;
  category: SkillCategory;
  /** Its size in bytes (of a link: of the path it points to). */
  size: number;
  /** Why it cannot be imported, or null. */
  problem: string | null;
  /** Its Markdown after the front matter, when it can be imported. */
  body: string | null;
}

export interface CommittedSkills {
  /** False until the repository's mirror has been fetched (its first session does that). */
  fetched: boolean;
  branch: string;
  skills: CommittedSkill[];
  /** More directories than were looked at. */
  truncated: boolean;
}

/**
 * Reads the skills a repository commits, from the server's mirror of its default branch: git's
 * objects, never a checkout, so a symbolic link is reported as one and followed nowhere, and no
 * file of the server's can be reached. Bounded: MAX_COMMITTED directories, each SKILL.md read up
 * to MAX_CONTENT_BYTES. The answer is kept per tree, so looking again costs one git call while
 * the repository's skills stay as they are.
 */
export class CommittedSkillReader {
  private cache = new Map<string, { tree: string; result: CommittedSkills }>();

  constructor(private mirrors: Mirrors) {}

  async read(repo: Repo): Promise<CommittedSkills> {
    const branch = repo.defaultBranch;
    const none = (fetched: boolean): CommittedSkills => ({ fetched, branch, skills: [], truncated: false });
    const top = await this.mirrors.listTree(repo.id, `refs/heads/${branch}`, [".claude/skills"], 4096);
    if (!top) return none(this.mirrors.fetched(repo.id));
    const tree = top.entries.find((entry) => entry.path === ".claude/skills" && entry.type === "tree");
    if (!tree) return none(true);
    const cached = this.cache.get(repo.id);
    if (cached?.tree === tree.sha) return cached.result;

    const listing = await this.mirrors.listTree(repo.id, tree.sha, [], MAX_LISTING_BYTES);
    const dirs = (listing?.entries ?? []).filter((entry) => entry.type === "tree").map((entry) => entry.path);
    const looked = dirs.slice(0, MAX_COMMITTED);
    const files = looked.length ? await this.mirrors.listTree(repo.id, tree.sha, looked.map((dir) => `${dir}/SKILL.md`), MAX_LISTING_BYTES) : null;
    const skills: CommittedSkill[] = [];
    for (const entry of files?.entries ?? []) {
      const dir = entry.path.slice(0, -"/SKILL.md".length);
      skills.push(await this.readOne(repo.id, dir, entry));
    }
    const result = { fetched: true, branch, skills, truncated: dirs.length > looked.length || listing?.truncated === true };
    this.cache.set(repo.id, { tree: tree.sha, result });
    return result;
  }

  private async readOne(repoId: string, dir: string, entry: { mode: string; type: string; sha: string; size: number | null }): Promise<CommittedSkill> {
    const base = { dir, name: isSkillName(dir) ? dir : null, description: "", descriptionGiven: false, category: "workflow" as SkillCategory, size: entry.size ?? 0, body: null };
    if (entry.mode === "120000") return { ...base, problem: "It is a symbolic link; only a regular file can be imported." };
    if (entry.type !== "blob") return { ...base, problem: "It is not a regular file." };
    if ((entry.size ?? 0) > MAX_CONTENT_BYTES) return { ...base, problem: `It is ${Math.ceil(entry.size! / 1024)} KiB; a skill may have at most ${MAX_CONTENT_BYTES / 1024} KiB.` };
    const { content } = await this.mirrors.readBlob(repoId, entry.sha, MAX_CONTENT_BYTES);
    let text: string;
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(content);
    } catch {
      return { ...base, problem: "It is not UTF-8 text." };
    }
    if (text.includes("\0")) return { ...base, problem: "It is not text." };
    const { fields, body } = readSkillFile(text);
    const named = fields.name !== undefined && isSkillName(fields.name) ? fields.name : base.name;
    const category = (SKILL_CATEGORIES as readonly string[]).includes(fields.category ?? "") ? (fields.category as SkillCategory) : "workflow";
    const given = oneLine(fields.description ?? "");
    const found = { ...base, name: named, category, description: given || describeContent(body), descriptionGiven: given !== "" };
    if (!named) return { ...found, problem: "Neither its front matter's name nor its directory is a valid skill name (lowercase words joined by hyphens, at most 64 characters)." };
    if (!body.trim()) return { ...found, problem: "It has no content after its front matter." };
    return { ...found, problem: null, body };
  }
}
