import { createHash } from "node:crypto";
import { posix } from "node:path";
import { AppError } from "../infra/errors.ts";
import type { Mirrors, TreeEntry } from "../repos/mirrors.ts";
import type { Repo } from "../repos/repos.ts";
import { MAX_CONFIG_BYTES, parseDevcontainer } from "./devcontainer-config.ts";
import type { WorkspaceVariables } from "./devcontainer-variables.ts";
import type { DevcontainerConfig, EnvironmentSource } from "./environment.ts";

/**
 * What the hash is computed by: raised when what goes into it changes meaning, so every pod made
 * by an older Pier reads as outdated once rather than never.
 */
const RECIPE_VERSION = "pier-environment-1";
/** A listing of .devcontainer stops here (a few hundred entries). */
const MAX_LISTING_BYTES = 64 * 1024;
/** At most this many folders of .devcontainer are looked into for a devcontainer.json. */
const MAX_VARIANTS = 50;
/** Git's modes for what a path can be besides a file: a symbolic link, a submodule. */
const LINK = "120000";
const SUBMODULE = "160000";

/** A repository's environment as its mirror has it at one commit. */
export interface RepoEnvironment {
  /**
   * What its pods are made from: "devcontainer" when a configuration is chosen (even one that
   * cannot be applied: then `error` says why and no pod is made from something else by surprise),
   * else the image named on the repo, else Pier's workspace image.
   */
  source: EnvironmentSource;
  /** Every devcontainer.json the commit has, in the order one is chosen when the repo names none. */
  candidates: string[];
  /** The chosen configuration's path, or null when there is none. */
  configPath: string | null;
  /** The chosen configuration as Pier applies it; null when there is none or `error` says why it cannot be applied. */
  config: DevcontainerConfig | null;
  /**
   * The configuration's content hash (see environmentHash): a pod made from another hash is
   * outdated. Null without a configuration, or with an `error`.
   */
  hash: string | null;
  /** The commit read; null when the mirror has not been fetched yet (the caller fetches first) or lacks the branch. */
  commit: string | null;
  /** Why the environment cannot be read or applied, as a sentence for the repo and session pages; null when it can. */
  error: string | null;
}

/** A place a devcontainer.json may be, and what the commit has there (a file, a link, a submodule). */
interface Candidate {
  path: string;
  entry: TreeEntry;
  /** The path of `entry`: the file itself, or a .devcontainer folder that is a link or a submodule. */
  at: string;
}

/**
 * Reads a repository's environment from its mirror at `ref` (its default branch unless a session
 * bases on another): git's objects, never a checkout, so a symbolic link is reported as one and
 * followed nowhere, and every read is bounded. The configuration is the repo's devcontainerPath
 * when it names one, else the first of .devcontainer/devcontainer.json, .devcontainer.json and
 * .devcontainer/<name>/devcontainer.json. A devcontainerPath the commit does not have is an error
 * naming the ones it has, rather than another configuration the repo did not ask for.
 * `vars` are the workspace's paths for the configuration's variables (see substituteVariables).
 */
export async function readEnvironment(mirrors: Mirrors, repo: Repo, ref = `refs/heads/${repo.defaultBranch}`, vars?: WorkspaceVariables): Promise<RepoEnvironment> {
  const fallback: RepoEnvironment = { source: repo.image ? "image" : "default", candidates: [], configPath: null, config: null, hash: null, commit: null, error: null };
  const branch = ref.replace(/^refs\/heads\//, "");
  if (!mirrors.fetched(repo.id)) return fallback;
  const commit = await mirrors.commitOf(repo.id, ref);
  if (!commit) return { ...fallback, error: `The branch ${branch} is not in the repository's mirror.` };

  const found = await findCandidates(mirrors, repo.id, commit);
  const candidates = found.map((candidate) => candidate.path);
  const chosen = repo.devcontainerPath ? found.find((candidate) => candidate.path === repo.devcontainerPath) : found[0];
  if (!chosen) {
    if (!repo.devcontainerPath) return { ...fallback, candidates, commit };
    const others = candidates.length ? `pick one of: ${candidates.join(", ")}` : "it has no devcontainer.json";
    return { ...fallback, source: "devcontainer", candidates, configPath: repo.devcontainerPath, commit, error: `Devcontainer path ${repo.devcontainerPath} is not in ${branch}; ${others}.` };
  }

  const base = { source: "devcontainer" as const, candidates, configPath: chosen.path, commit };
  const failed = (error: string): RepoEnvironment => ({ ...base, config: null, hash: null, error });
  const notFile = notAFile(chosen.entry, chosen.at);
  if (notFile) return failed(notFile);
  if ((chosen.entry.size ?? 0) > MAX_CONFIG_BYTES) {
    return failed(`${chosen.path}: the file has ${Math.ceil(chosen.entry.size! / 1024)} KiB; a devcontainer.json may have at most ${MAX_CONFIG_BYTES / 1024} KiB.`);
  }
  const { content } = await mirrors.readBlob(repo.id, chosen.entry.sha, MAX_CONFIG_BYTES);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(content);
  } catch {
    return failed(`${chosen.path} is not UTF-8 text.`);
  }
  let config: DevcontainerConfig;
  try {
    config = parseDevcontainer(text, chosen.path, vars);
  } catch (error) {
    if (error instanceof AppError) return failed(error.message);
    throw error;
  }
  const hashed = await environmentHash(mirrors, repo.id, commit, branch, chosen, config);
  if ("error" in hashed) return failed(hashed.error);
  return { ...base, config, hash: hashed.hash, error: null };
}

/**
 * The places a devcontainer.json may be, in the spec's order, that the commit has something at:
 * a file, or a link or submodule (reported when chosen, never followed). A .devcontainer that is
 * itself a link or a submodule stands for the file it would hold.
 */
async function findCandidates(mirrors: Mirrors, repoId: string, commit: string): Promise<Candidate[]> {
  const top = (await mirrors.listTree(repoId, commit, [".devcontainer.json", ".devcontainer"], 4096))?.entries ?? [];
  const rootFile = top.find((entry) => entry.path === ".devcontainer.json");
  const folder = top.find((entry) => entry.path === ".devcontainer");
  const inFolder: Candidate[] = [];
  const variants: Candidate[] = [];
  if (folder && (folder.mode === LINK || folder.mode === SUBMODULE)) {
    inFolder.push({ path: ".devcontainer/devcontainer.json", entry: folder, at: ".devcontainer" });
  } else if (folder?.type === "tree") {
    const listing = (await mirrors.listTree(repoId, folder.sha, [], MAX_LISTING_BYTES))?.entries ?? [];
    const file = listing.find((entry) => entry.path === "devcontainer.json");
    if (file) inFolder.push({ path: ".devcontainer/devcontainer.json", entry: file, at: ".devcontainer/devcontainer.json" });
    const names = listing
      .filter((entry) => entry.type === "tree" && /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(entry.path))
      .map((entry) => entry.path)
      .slice(0, MAX_VARIANTS);
    const files = names.length ? ((await mirrors.listTree(repoId, folder.sha, names.map((name) => `${name}/devcontainer.json`), MAX_LISTING_BYTES))?.entries ?? []) : [];
    for (const entry of files) variants.push({ path: `.devcontainer/${entry.path}`, entry, at: `.devcontainer/${entry.path}` });
  }
  return [...inFolder, ...(rootFile ? [{ path: ".devcontainer.json", entry: rootFile, at: ".devcontainer.json" }] : []), ...variants];
}

/** Why `entry` at `path` cannot be read as a file, or null when it is one. */
function notAFile(entry: TreeEntry, path: string): string | null {
  if (entry.mode === LINK) return `${path} is a symbolic link; Pier reads a repository's configuration only from its own files, never through a link.`;
  if (entry.mode === SUBMODULE) return `${path} is a submodule; Pier reads a repository's configuration only from its own files.`;
  if (entry.type !== "blob") return `${path} is not a file.`;
  return null;
}

/**
 * The environment's content hash: sha256 over the recipe's version, the configuration's path and
 * blob, the tree of the .devcontainer folder holding it (what a Dockerfile there COPYs, scripts it
 * runs), the Dockerfile's blob, each local feature's folder, and the build context's tree when it
 * lies within the configuration's folder. An environment is outdated when its configuration or a
 * file it builds from changes, not at every commit: a context of the repository's root (or any
 * folder beyond the configuration's) would change with each one, so only its Dockerfile counts
 * there. All from the ids git already keeps for each object, so nothing is read twice.
 */
async function environmentHash(
  mirrors: Mirrors,
  repoId: string,
  commit: string,
  branch: string,
  chosen: Candidate,
  config: DevcontainerConfig,
): Promise<{ hash: string } | { error: string }> {
  const hash = createHash("sha256");
  const add = (what: string, path: string, sha: string) => hash.update(`${what} ${sha} ${path}\n`);
  hash.update(`${RECIPE_VERSION}\n`);
  add("config", chosen.path, chosen.entry.sha);

  const folder = posix.dirname(chosen.path);
  const inFolder = folder !== ".";
  const within = (path: string) => inFolder && (path === folder || path.startsWith(`${folder}/`));
  const wanted = [
    ...(inFolder ? [{ what: "folder", path: folder, type: "tree" }] : []),
    ...(config.build ? [{ what: "dockerfile", path: config.build.dockerfile, type: "blob" }] : []),
    ...(config.build && within(config.build.context) ? [{ what: "context", path: config.build.context, type: "tree" }] : []),
    ...config.features.filter((feature) => feature.local).map((feature) => ({ what: "feature", path: feature.id, type: "tree" })),
  ];
  const entries = await mirrors.entriesAt(repoId, commit, wanted.map((item) => item.path), MAX_LISTING_BYTES);
  for (const { what, path, type } of wanted) {
    const entry = entries.get(path);
    const name = what === "feature" ? `The local feature ${path}` : what === "dockerfile" ? `The Dockerfile ${path}` : `The folder ${path}`;
    if (!entry) return { error: `${name} is not in ${branch}.` };
    if (entry.mode === LINK) return { error: `${name} is a symbolic link; Pier builds only from a repository's own files, never through a link.` };
    if (entry.type !== type) return { error: `${name} is not a ${type === "tree" ? "folder" : "file"}.` };
    add(what, path, entry.sha);
  }
  return { hash: hash.digest("hex") };
}
