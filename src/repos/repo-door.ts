import type { Actor } from "../auth/actor.ts";
import type { Db } from "../infra/db.ts";
import { type AddRepoInput, type Repo, type RepoRemoval, type RepoRules, type RepoSettingsInput, addRepo, getRepo, listRepos, removeRepo, updateRepo } from "./repos.ts";

/**
 * The repositories' door for the web layer: the registry's functions, bound to the database, the
 * rules a repo is checked against and what removing one asks of its sessions and pods.
 */
export class Repos {
  constructor(private readonly parts: { db: Db; rules: RepoRules; removal: RepoRemoval; updated?: (repo: Repo) => void }) {}

  list(): Repo[] {
    return listRepos(this.parts.db);
  }

  get(id: string): Repo {
    return getRepo(this.parts.db, id);
  }

  add(actor: Actor, input: AddRepoInput): Repo {
    return addRepo(this.parts.db, this.parts.rules, actor, input);
  }

  update(actor: Actor, id: string, input: RepoSettingsInput): Repo {
    const repo = updateRepo(this.parts.db, this.parts.rules, actor, id, input);
    this.parts.updated?.(repo);
    return repo;
  }

  remove(actor: Actor, id: string): Promise<void> {
    return removeRepo(this.parts.db, actor, id, this.parts.removal);
  }
}
