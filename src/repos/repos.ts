import { asc, eq } from "drizzle-orm";
import { IMAGE_REF } from "../infra/config.ts";
import type { Db } from "../infra/db.ts";
import { AppError, invalid, notFound } from "../infra/errors.ts";
import { newId } from "../infra/ids.ts";
import { type Input, optionalString, requiredString } from "../infra/input.ts";
import { isValidBranchName } from "./git-ref.ts";
import { checkRepoUrl, nameFromUrl } from "./git-url.ts";
import { repos } from "./tables.ts";

export interface Repo {
  id: string;
  name: string;
  url: string;
  defaultBranch: string;
  image: string | null;
  createdAt: Date;
}

const REPO_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

export function publicRepo(repo: Repo) {
  return { ...repo, createdAt: repo.createdAt.toISOString() };
}

export interface RepoRules {
  allowLocalRepos: boolean;
}

/** Checks every field first; nothing is written unless all are acceptable. */
export function addRepo(db: Db, rules: RepoRules, input: Input, createdBy: string): Repo {
  const url = requiredString(input, "url", "URL");
  const urlProblem = checkRepoUrl(url, rules.allowLocalRepos);
  if (urlProblem) throw invalid("url", urlProblem);

  const name = optionalString(input, "name", "Name") ?? nameFromUrl(url);
  if (!REPO_NAME.test(name)) {
    throw invalid("name", "Name must be 1–100 characters: letters, digits, '.', '-' or '_', starting with a letter or digit.");
  }
  const defaultBranch = optionalString(input, "defaultBranch", "Default branch") ?? "main";
  if (!isValidBranchName(defaultBranch)) throw invalid("defaultBranch", "Default branch is not a valid git branch name.");
  const image = optionalString(input, "image", "Image") ?? null;
  if (image !== null && !IMAGE_REF.test(image)) {
    throw invalid("image", "Image must be a Docker image reference such as debian:bookworm or ghcr.io/org/image:tag.");
  }

  const repo: Repo = { id: newId(), name, url, defaultBranch, image, createdAt: new Date() };
  return db.transaction((tx) => {
    const taken = tx.select({ id: repos.id }).from(repos).where(eq(repos.name, name)).get();
    if (taken) throw new AppError(409, "name_taken", `A repository named "${name}" already exists.`, "name");
    tx.insert(repos).values({ ...repo, createdBy }).run();
    return repo;
  });
}

const columns = {
  id: repos.id,
  name: repos.name,
  url: repos.url,
  defaultBranch: repos.defaultBranch,
  image: repos.image,
  createdAt: repos.createdAt,
};

export function listRepos(db: Db): Repo[] {
  return db.select(columns).from(repos).orderBy(asc(repos.name)).all();
}

export function getRepo(db: Db, id: string): Repo {
  const repo = db.select(columns).from(repos).where(eq(repos.id, id)).get();
  if (!repo) throw notFound("repository");
  return repo;
}

export function deleteRepo(db: Db, id: string): void {
  const removed = db.delete(repos).where(eq(repos.id, id)).returning({ id: repos.id }).all();
  if (removed.length === 0) throw notFound("repository");
}
