import type { AuditLog } from "../audit/audit-log.ts";
import type { Actor } from "../auth/actor.ts";
import type { Db } from "../infra/db.ts";
import { type AddRepoInput, type Repo, type RepoRemoval, type RepoRules, type RepoSettingsInput, addRepo, getRepo, listRepos, removeRepo, updateRepo } from "./repos.ts";

/**
 * The repositories' door for the web layer: the registry's functions, bound to the database, the
 * rules a repo is checked against and what removing one asks of its sessions and pods. Adding and
 * removing one go in the audit log.
 */
export class Repos {
  constructor(private readonly parts: { db: Db; rules: RepoRules; removal: RepoRemoval; audit: AuditLog; updated?: (repo: Repo) => void }) {}

  list(): Repo[] {
    return listRepos(this.parts.db);
  }

  get(id: string): Repo {
    return getRepo(this.parts.db, id);
  }

  add(actor: Actor, input: AddRepoInput): Repo {
    const repo = addRepo(this.parts.db, this.parts.rules, actor, input);
    this.parts.audit.record(actor, "repo_added", { kind: "repo", id: repo.id, name: repo.name });
    return repo;
  }

  update(actor: Actor, id: string, input: RepoSettingsInput): Repo {
    const repo = updateRepo(this.parts.db, this.parts.rules, actor, id, input);
    this.parts.updated?.(repo);
    return repo;
  }

  async remove(actor: Actor, id: string): Promise<void> {
    const repo = await removeRepo(this.parts.db, actor, id, this.parts.removal);
    this.parts.audit.record(actor, "repo_removed", { kind: "repo", id: repo.id, name: repo.name });
  }
}
