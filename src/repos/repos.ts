import { type Static, Type } from "@sinclair/typebox";
import { asc, eq, isNotNull, isNull } from "drizzle-orm";
import { type Actor, assertAdmin } from "../auth/actor.ts";
import { IMAGE_REF } from "../infra/config.ts";
import type { Db } from "../infra/db.ts";
import { AppError, invalid, notFound } from "../infra/errors.ts";
import { newId } from "../infra/ids.ts";
import { NO_CONTROL_CHARS, optionalText, readField, requiredText } from "../infra/input.ts";
import { isValidBranchName } from "./git-ref.ts";
import { checkRepoUrl, nameFromUrl } from "./git-url.ts";
import { type GitHubWeb, githubRepoFromUrl, isGithubRepo } from "../github/web.ts";
import { repos } from "./tables.ts";

export interface Repo {
  id: string;
  name: string;
  url: string;
  defaultBranch: string;
  image: string | null;
  terminalCommand: string | null;
  /** "owner/name" on the GitHub of GITHUB_API_URL (from the URL, or set for mirrors and local clones). */
  githubRepo: string | null;
  /** Its runs working at once, within the instance's maxConcurrentRuns; null: only the instance's limit. */
  maxConcurrentRuns: number | null;
  /** Which devcontainer.json its pods are made from when it has several; null: the first found (see environments). */
  devcontainerPath: string | null;
  /** Run in each new worktree before its terminal and chat start. */
  setupScript: string | null;
  /** Run in a session's worktree before the session ends. */
  cleanupScript: string | null;
  /** Each person's pod of it is built and started ahead. */
  warmPods: boolean;
  /** The Docker engine (an id) its pods are placed on; null: by labels and room (see src/docker-engines). */
  dockerEngine: string | null;
  /** Labels an engine must all carry to take its pods. */
  dockerEngineLabels: string[];
  createdAt: Date;
}

const REPO_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
const MAX_COMMAND = 500;
/** The instance's own ceiling of runs at once (settings' maxConcurrentRuns). */
const MAX_RUNS_AT_ONCE = 64;
const MAX_SCRIPT = 10_000;
/** Where the Development Container spec lets a repository keep its configuration. */
export const DEVCONTAINER_PATH = /^(\.devcontainer\.json|\.devcontainer\/devcontainer\.json|\.devcontainer\/[A-Za-z0-9][A-Za-z0-9._-]{0,99}\/devcontainer\.json)$/;
const DEVCONTAINER_PATH_RULE = "Devcontainer path must be .devcontainer/devcontainer.json, .devcontainer.json or .devcontainer/<name>/devcontainer.json, or empty for the first one found.";
const WARM_PODS_RULE = "Warm pods must be true or false.";
/** A script: any text but NUL, up to MAX_SCRIPT characters. */
const scriptField = (title: string, description: string) =>
  optionalText(title, { maxLength: MAX_SCRIPT, pattern: "^[^\\x00]*$", rule: `${title} must be at most ${MAX_SCRIPT} characters.`, description });
const RUNS_AT_ONCE_RULE = `Runs at once must be a whole number from 1 to ${MAX_RUNS_AT_ONCE}, or empty for the instance's limit only.`;

const ENGINE_LABELS_RULE = "Docker engine labels must be a list of at most 20 labels, each lowercase letters, digits, '.', '-' or '_' (such as gpu).";

export function publicRepo(repo: Repo) {
  return { ...repo, createdAt: repo.createdAt.toISOString() };
}

export interface RepoRules {
  allowLocalRepos: boolean;
  /** The GitHub repos are matched against (from GITHUB_API_URL). */
  github: GitHubWeb;
  /** The id of the Docker engine of that id or name, or null when there is none. */
  dockerEngineId(idOrName: string): string | null;
}

/** The settings of a repo an admin may change; an empty image or command clears it. */
export const RepoSettingsInput = Type.Object({
  defaultBranch: optionalText("Default branch"),
  image: optionalText("Image"),
  terminalCommand: optionalText("Terminal start command", {
    trim: true,
    maxLength: MAX_COMMAND,
    pattern: NO_CONTROL_CHARS,
    rule: `Terminal start command must be one line of at most ${MAX_COMMAND} characters.`,
  }),
  githubRepo: optionalText("GitHub repository", { description: "owner/name on GitHub; empty takes it from the URL." }),
  // A number from the API, text from the settings form; empty clears it.
  maxConcurrentRuns: Type.Optional(Type.Union([Type.Number(), Type.String()], { title: "Runs at once", error: RUNS_AT_ONCE_RULE, description: "Its runs working at once; empty for the instance's limit only." })),
  devcontainerPath: optionalText("Devcontainer path", { description: "Which devcontainer.json pods are made from when the repository has several; empty for the first found." }),
  setupScript: scriptField("Setup script", "Run in each new worktree before its terminal and chat start (for example npm ci); empty for none."),
  cleanupScript: scriptField("Cleanup script", "Run in a session's worktree before the session ends; empty for none."),
  // A boolean from the API, text from the settings form's checkbox.
  warmPods: Type.Optional(Type.Union([Type.Boolean(), Type.String()], { title: "Warm pods", error: WARM_PODS_RULE, description: "Build and start each person's pod ahead, so a first session starts warm." })),
  dockerEngine: optionalText("Docker engine", { trim: true, description: "The Docker engine (id or name) its pods are placed on; empty: wherever its labels and the most room say." }),
  dockerEngineLabels: Type.Optional(
    Type.Array(Type.String({ pattern: "^[a-z0-9][a-z0-9._-]{0,62}$", rule: ENGINE_LABELS_RULE }), {
      title: "Docker engine labels",
      error: ENGINE_LABELS_RULE,
      maxItems: 20,
      rule: ENGINE_LABELS_RULE,
      description: "Its pods go only on engines carrying all these labels.",
    }),
  ),
});
export type RepoSettingsInput = Static<typeof RepoSettingsInput>;

export const AddRepoInput = Type.Composite([
  Type.Object({ url: requiredText("URL"), name: optionalText("Name", { description: "Taken from the URL when left out." }) }),
  RepoSettingsInput,
]);
export type AddRepoInput = Static<typeof AddRepoInput>;

/** An admin adds a repo. Checks every field first; nothing is written unless all are acceptable. */
export function addRepo(db: Db, rules: RepoRules, actor: Actor, input: AddRepoInput): Repo {
  assertAdmin(actor);
  const url = input.url;
  const urlProblem = checkRepoUrl(url, rules.allowLocalRepos);
  if (urlProblem) throw invalid("url", urlProblem);

  const name = input.name || nameFromUrl(url);
  if (!REPO_NAME.test(name)) {
    throw invalid("name", "Name must be 1–100 characters: letters, digits, '.', '-' or '_', starting with a letter or digit.");
  }
  const defaults = {
    defaultBranch: "main",
    image: null,
    terminalCommand: null,
    githubRepo: githubRepoFromUrl(url, rules.github),
    maxConcurrentRuns: null,
    devcontainerPath: null,
    setupScript: null,
    cleanupScript: null,
    warmPods: false,
    dockerEngine: null,
    dockerEngineLabels: [],
  };
  const repo: Repo = { id: newId(), name, url, createdAt: new Date(), ...readSettings(input, defaults, url, rules) };
  return db.transaction((tx) => {
    const taken = tx.select({ id: repos.id }).from(repos).where(eq(repos.name, name)).get();
    if (taken) throw new AppError(409, "name_taken", `A repository named "${name}" already exists.`, "name");
    tx.insert(repos).values({ ...repo, dockerEngineLabels: JSON.stringify(repo.dockerEngineLabels), createdBy: actor.user.id }).run();
    return repo;
  });
}

type RepoSettings = Pick<
  Repo,
  "defaultBranch" | "image" | "terminalCommand" | "githubRepo" | "maxConcurrentRuns" | "devcontainerPath" | "setupScript" | "cleanupScript" | "warmPods" | "dockerEngine" | "dockerEngineLabels"
>;

/** An admin changes a repo's settings (see RepoSettingsInput); "" clears the optional ones. */
export function updateRepo(db: Db, rules: RepoRules, actor: Actor, id: string, input: RepoSettingsInput): Repo {
  assertAdmin(actor);
  const repo = getRepo(db, id);
  const next = readSettings(input, repo, repo.url, rules);
  db.update(repos).set({ ...next, dockerEngineLabels: JSON.stringify(next.dockerEngineLabels) }).where(eq(repos.id, id)).run();
  return { ...repo, ...next };
}

/** The settable fields in `input`, checked; a field left out keeps its value from `current`. */
function readSettings(input: RepoSettingsInput, current: RepoSettings, url: string, rules: RepoRules): RepoSettings {
  const next = { ...current };
  if (input.defaultBranch) {
    const branch = input.defaultBranch;
    if (!isValidBranchName(branch)) throw invalid("defaultBranch", "Default branch is not a valid git branch name.");
    next.defaultBranch = branch;
  }
  if (input.image !== undefined) {
    const image = input.image || null;
    if (image !== null && !IMAGE_REF.test(image)) {
      throw invalid("image", "Image must be a Docker image reference such as debian:bookworm or ghcr.io/org/image:tag.");
    }
    next.image = image;
  }
  if (input.terminalCommand !== undefined) {
    next.terminalCommand = readField(RepoSettingsInput, "terminalCommand", input.terminalCommand) || null;
  }
  if (input.githubRepo !== undefined) {
    const githubRepo = input.githubRepo.trim() || githubRepoFromUrl(url, rules.github);
    if (githubRepo !== null && !isGithubRepo(githubRepo)) throw invalid("githubRepo", "GitHub repository must be owner/name, such as octo-org/widgets.");
    next.githubRepo = githubRepo;
  }
  if (input.maxConcurrentRuns !== undefined) next.maxConcurrentRuns = runsAtOnce(input.maxConcurrentRuns);
  if (input.devcontainerPath !== undefined) {
    const path = input.devcontainerPath.trim() || null;
    if (path !== null && !DEVCONTAINER_PATH.test(path)) throw invalid("devcontainerPath", DEVCONTAINER_PATH_RULE);
    next.devcontainerPath = path;
  }
  if (input.setupScript !== undefined) next.setupScript = script(readField(RepoSettingsInput, "setupScript", input.setupScript));
  if (input.cleanupScript !== undefined) next.cleanupScript = script(readField(RepoSettingsInput, "cleanupScript", input.cleanupScript));
  if (input.warmPods !== undefined) next.warmPods = warmPods(input.warmPods);
  if (input.dockerEngine !== undefined) {
    const engine = input.dockerEngine ? rules.dockerEngineId(input.dockerEngine) : null;
    if (input.dockerEngine && engine === null) throw invalid("dockerEngine", `There is no Docker engine named ${input.dockerEngine}; GET /api/config/docker-engines lists them.`);
    next.dockerEngine = engine;
  }
  if (input.dockerEngineLabels !== undefined) next.dockerEngineLabels = [...new Set(input.dockerEngineLabels)];
  return next;
}

/** A script as kept: Windows line ends made Unix ones (a form sends CRLF), none when only blank. */
function script(text: string | undefined): string | null {
  const normal = (text ?? "").replace(/\r\n?/g, "\n");
  return normal.trim() === "" ? null : normal;
}

/** Warm pods from JSON (a boolean) or a form (a checkbox sends "on"; a hidden field "false"). */
function warmPods(raw: boolean | string): boolean {
  if (typeof raw === "boolean") return raw;
  const value = raw.trim().toLowerCase();
  if (["true", "on", "1"].includes(value)) return true;
  if (["false", "off", "0", ""].includes(value)) return false;
  throw invalid("warmPods", WARM_PODS_RULE);
}

/** A repo's runs at once: a whole number from 1 to the instance's ceiling, or none (empty). */
function runsAtOnce(raw: number | string): number | null {
  if (typeof raw === "string" && raw.trim() === "") return null;
  const value = typeof raw === "number" ? raw : Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > MAX_RUNS_AT_ONCE) throw invalid("maxConcurrentRuns", RUNS_AT_ONCE_RULE);
  return value;
}

const columns = {
  id: repos.id,
  name: repos.name,
  url: repos.url,
  defaultBranch: repos.defaultBranch,
  image: repos.image,
  terminalCommand: repos.terminalCommand,
  githubRepo: repos.githubRepo,
  maxConcurrentRuns: repos.maxConcurrentRuns,
  devcontainerPath: repos.devcontainerPath,
  setupScript: repos.setupScript,
  cleanupScript: repos.cleanupScript,
  warmPods: repos.warmPods,
  dockerEngine: repos.dockerEngine,
  dockerEngineLabels: repos.dockerEngineLabels,
  createdAt: repos.createdAt,
};

function fromRow(row: Omit<Repo, "dockerEngineLabels"> & { dockerEngineLabels: string }): Repo {
  return { ...row, dockerEngineLabels: JSON.parse(row.dockerEngineLabels) as string[] };
}

export function listRepos(db: Db): Repo[] {
  return db.select(columns).from(repos).orderBy(asc(repos.name)).all().map(fromRow);
}

/**
 * The repo with this id, the one door every domain asks whether a repo exists. Without one it is a
 * 404 when the repo is what was asked for, or a 400 naming `field` when a form or body gave its id.
 */
export function getRepo(db: Db, id: string, field?: string): Repo {
  const row = db.select(columns).from(repos).where(eq(repos.id, id)).get();
  if (!row) throw field ? invalid(field, "No repository with that id.") : notFound("repository");
  return fromRow(row);
}

/**
 * Repos added before `githubRepo` existed (or whose URL moved onto the GitHub host) get it from
 * their URL; one set by hand is kept.
 */
export function fillGithubRepos(db: Db, rules: RepoRules): void {
  for (const repo of db.select(columns).from(repos).where(isNull(repos.githubRepo)).all().map(fromRow)) {
    const githubRepo = githubRepoFromUrl(repo.url, rules.github);
    if (githubRepo) db.update(repos).set({ githubRepo }).where(eq(repos.id, repo.id)).run();
  }
}

/** The repos on GitHub under this "owner/name" (GitHub's names ignore case). */
export function reposOnGithub(db: Db, fullName: string): Repo[] {
  const wanted = fullName.toLowerCase();
  return db.select(columns).from(repos).where(isNotNull(repos.githubRepo)).all().map(fromRow).filter((repo) => repo.githubRepo?.toLowerCase() === wanted);
}

/** What removing a repo needs from the modules that hold its sessions and pods. */
export interface RepoRemoval {
  hasLiveSession(repoId: string): boolean;
  removePods(repoId: string): Promise<void>;
}

/**
 * Removes a repo from Pier once no session is live on it. Its pods go; its files (the mirror,
 * each person's clone with branches that have unpushed commits) stay on disk, so no work is lost.
 */
export async function removeRepo(db: Db, actor: Actor, id: string, parts: RepoRemoval): Promise<Repo> {
  assertAdmin(actor);
  const repo = getRepo(db, id);
  if (parts.hasLiveSession(id)) {
    throw new AppError(409, "repo_in_use", "The repository has active sessions; end them before removing it.");
  }
  await parts.removePods(id);
  const removed = db.delete(repos).where(eq(repos.id, id)).returning({ id: repos.id }).all();
  if (removed.length === 0) throw notFound("repository");
  return repo;
}
