import type { Actor } from "../auth/actor.ts";
import type { Db } from "../infra/db.ts";
import { type Resolve, checkDestination, systemResolve } from "../infra/destination.ts";
import { AppError, errorMessage } from "../infra/errors.ts";
import type { Mirrors } from "../repos/mirrors.ts";
import { getRepo, type Repo, reposOnGithub } from "../repos/repos.ts";
import type { PodEnvironment, PodKey, Progress } from "../runtime/runtime.ts";
import type { DevcontainerConfig, EnvironmentPort, EnvironmentSource, RefusedKey } from "./environment.ts";
import { readEnvironment, type RepoEnvironment } from "./environment-source.ts";
import { StepOutput } from "./step-output.ts";

/** What building an environment's image takes (see image-build.ts). */
export interface ImageBuilder {
  tagFor(repoId: string, hash: string): string;
  /** Whether the image of this environment is built already. */
  has(repoId: string, hash: string): Promise<boolean>;
  ensure(request: { repoId: string; commit: string; config: DevcontainerConfig; hash: string }, log: (line: string) => void): Promise<string>;
}

/** What the pods say of a person's pod, for the environment's view. */
export interface PodEnvironmentFacts {
  /** Whether the pod exists (running or stopped). */
  exists: boolean;
  /** The environment it was made from (null: a plain image). */
  envHash: string | null;
}

export interface EnvironmentsDeps {
  db: Db;
  /** Whether features may come from registries on loopback and private networks (PIER_FEATURE_REGISTRY_ALLOW_PRIVATE). */
  featureRegistryAllowPrivate?: boolean;
  /** How a registry's name is resolved, for that check. */
  resolveHost?: Resolve;
  mirrors: Mirrors;
  /** Null where pods are not containers (the local runtime): no devcontainer applies there. */
  images: ImageBuilder | null;
  defaultImage: string;
  podFacts(key: PodKey): PodEnvironmentFacts;
  /** Makes the person's pod of the repo again from its environment now, workspace kept (see Pods.recreate). */
  recreatePod(repo: Repo, userId: string, progress: Progress): Promise<void>;
}

/** GET /api/repos/:id/environment, for one person. */
export interface EnvironmentView {
  source: EnvironmentSource;
  configPath: string | null;
  /** The configurations the repository has (the repo page picks one when there are several). */
  candidates: string[];
  imageRef: string;
  state: "ready" | "building" | "failed" | "none";
  error: string | null;
  /** The person's pod was made from another environment than the default branch's now. */
  outdated: boolean;
  refused: RefusedKey[];
  ports: Array<Pick<EnvironmentPort, "port" | "label">>;
}

/** A pod's environment as resolved when it is made: what the runtime gets, and the configuration kept on the pod. */
export interface ResolvedEnvironment {
  pod: PodEnvironment;
  config: DevcontainerConfig | null;
}

/**
 * Repositories' environments: what each person's pod is made from, read from the repo's own mirror
 * at its default branch (never from a pod) and built into an image tagged by the configuration's
 * content hash, so a second person, or a pod made again, reuses it. Also whether a person's pod is
 * outdated, and its rebuild. The lifecycle commands run in pod-lifecycle.ts.
 */
export class Environments {
  /** Builds under way and the last failure, per person's pod: what the view says. */
  private building = new Map<string, Promise<void>>();
  private rebuilding = new Map<string, Promise<void>>();
  private failures = new Map<string, string>();

  constructor(private deps: EnvironmentsDeps) {}

  /**
   * What the person's pod of the repo is to be made from: its devcontainer (built now if need be),
   * the repo's image, or Pier's. A configuration that cannot be read or built fails with its sentence.
   */
  async resolve(repo: Repo, key: PodKey, progress: Progress): Promise<ResolvedEnvironment> {
    const plain = { image: repo.image ?? this.deps.defaultImage, env: {}, user: null, cpus: null, memoryMb: null, hash: null };
    const images = this.deps.images;
    if (!images) return { pod: plain, config: null };
    // Made from the default branch as it is now: a pod is made seldom, and a session started on a
    // fix to the configuration must get the fix (its own fetch runs meanwhile, and this waits for it).
    await this.deps.mirrors.update(repo).catch((error: unknown) => {
      if (!this.deps.mirrors.fetched(repo.id)) throw error;
      console.warn(`[pier] fetching ${repo.name} before making a pod failed (${errorMessage(error)}); its environment is read as last fetched`);
    });
    const found = await readEnvironment(this.deps.mirrors, repo);
    if (found.error) throw environmentInvalid(found.error);
    if (!found.config || !found.hash || !found.commit) return { pod: plain, config: null };
    const { hash, commit } = found;
    // A configuration of features alone builds them on the repo's image, or Pier's.
    const config = found.config.image || found.config.build ? found.config : { ...found.config, image: plain.image };
    const id = podKeyId(key);
    this.failures.delete(id);
    const building = (async () => {
      await this.checkRegistries(config);
      const log = new StepOutput(progress, "image", `Building the environment from ${config.configPath}…`);
      progress({ step: "image", message: `Building the environment from ${config.configPath}…`, fraction: 0 });
      await images.ensure({ repoId: repo.id, commit, config, hash }, (line) => log.line(line));
      log.done(`Environment ${images.tagFor(repo.id, hash)} is ready.`);
    })();
    this.building.set(id, building.catch(() => undefined));
    try {
      await building;
    } catch (error) {
      this.failures.set(id, errorMessage(error));
      throw error;
    } finally {
      this.building.delete(id);
    }
    return {
      pod: {
        image: images.tagFor(repo.id, hash),
        env: config.containerEnv,
        user: podUserName(config),
        cpus: config.hostRequirements.cpus,
        memoryMb: config.hostRequirements.memoryMb,
        hash,
      },
      config,
    };
  }

  /** The repo's environment as the person's pod stands against it (GET /api/repos/:id/environment). */
  view(actor: Actor, repoId: string): Promise<EnvironmentView> {
    return this.viewOf(repoId, actor.user.id);
  }

  /** The same for the pod of the person given (a session's page shows its own person's). */
  async viewOf(repoId: string, userId: string): Promise<EnvironmentView> {
    const repo = getRepo(this.deps.db, repoId);
    const key = { repoId, userId };
    const id = podKeyId(key);
    // A repository nobody has started a session on is fetched now, so that looking again shows its environment.
    if (!this.deps.mirrors.fetched(repo.id)) this.deps.mirrors.update(repo).catch(() => undefined);
    const found: RepoEnvironment = await readEnvironment(this.deps.mirrors, repo);
    const pod = this.deps.podFacts(key);
    const plainImage = repo.image ?? this.deps.defaultImage;
    const base = {
      source: found.source,
      configPath: found.configPath,
      candidates: found.candidates,
      refused: found.config?.refused ?? [],
      ports: (found.config?.ports ?? []).map(({ port, label }) => ({ port, label })),
    };
    if (!this.deps.images && found.source === "devcontainer") {
      return { ...base, imageRef: plainImage, state: "none", outdated: false,
        error: "Pier runs sessions on the server itself here (the local runtime), so the repository's devcontainer.json is not applied." };
    }
    const imageRef = found.hash && this.deps.images ? this.deps.images.tagFor(repo.id, found.hash) : plainImage;
    const outdated = pod.exists && found.error === null && (found.hash ?? null) !== pod.envHash;
    const error = found.error ?? this.failures.get(id) ?? null;
    let state: EnvironmentView["state"];
    if (this.building.has(id) || this.rebuilding.has(id)) state = "building";
    else if (error) state = "failed";
    else if (!found.hash) state = "ready";
    else state = (pod.exists && pod.envHash === found.hash) || (await this.deps.images!.has(repo.id, found.hash)) ? "ready" : "none";
    return { ...base, imageRef, state, error, outdated };
  }

  /**
   * Makes the person's pod of the repo again from the default branch's environment now (fetched
   * first), in the background: their workspace (clone, worktrees, uncommitted files) stays, their
   * live sessions get a new shell in the same worktree. 409 while one is under way.
   */
  rebuild(actor: Actor, repoId: string): void {
    const repo = getRepo(this.deps.db, repoId);
    if (!this.deps.images) throw new AppError(409, "no_environments", "Pier runs sessions on the server itself here (the local runtime): there is no pod to rebuild.");
    const id = podKeyId({ repoId, userId: actor.user.id });
    if (this.building.has(id) || this.rebuilding.has(id)) throw new AppError(409, "environment_building", "Your pod of this repository is being built already.");
    this.failures.delete(id);
    const rebuilding = (async () => {
      await this.deps.mirrors.update(repo);
      await this.deps.recreatePod(repo, actor.user.id, () => {});
    })();
    this.rebuilding.set(id, rebuilding.catch(() => undefined));
    rebuilding
      .catch((error: unknown) => {
        this.failures.set(id, errorMessage(error));
        console.warn(`[pier] rebuilding ${actor.user.username}'s pod of ${repo.name} failed: ${errorMessage(error)}`);
      })
      .finally(() => this.rebuilding.delete(id));
  }

  /**
   * Builds the default branch's environment ahead (fetched first), so the next pod made of it
   * does not wait for the build: on GitHub's word that the branch moved, and by a scheduled job.
   */
  async prebuild(repo: Repo): Promise<void> {
    const images = this.deps.images;
    if (!images) return;
    await this.deps.mirrors.update(repo);
    const found = await readEnvironment(this.deps.mirrors, repo);
    if (!found.config || !found.hash || !found.commit || (await images.has(repo.id, found.hash))) return;
    await this.checkRegistries(found.config);
    await images.ensure({ repoId: repo.id, commit: found.commit, config: found.config, hash: found.hash }, () => {});
  }

  /** A GitHub delivery: a push to a repo's default branch prebuilds its environment, in the background. */
  pushed(event: string, payload: { ref?: unknown; repository?: { full_name?: unknown } }): void {
    const fullName = payload.repository?.full_name;
    if (event !== "push" || typeof fullName !== "string") return;
    for (const repo of reposOnGithub(this.deps.db, fullName)) {
      if (payload.ref !== `refs/heads/${repo.defaultBranch}`) continue;
      this.prebuild(repo).catch((error: unknown) => console.warn(`[pier] prebuilding the environment of ${repo.name} failed: ${errorMessage(error)}`));
    }
  }

  /**
   * A feature from a registry is fetched by the devcontainer CLI from Pier's own process, so a
   * repository could name a host of the server's network: its registry must have only public
   * addresses (checked as a webhook's are), unless the admin allows private ones.
   */
  private async checkRegistries(config: DevcontainerConfig): Promise<void> {
    if (this.deps.featureRegistryAllowPrivate) return;
    for (const feature of config.features.filter((f) => !f.local)) {
      const host = feature.id.split("/")[0] ?? "";
      let url: URL;
      try {
        url = new URL(`https://${host}`);
      } catch {
        throw environmentInvalid(`The feature ${feature.id} names no registry host Pier can read.`);
      }
      const checked = await checkDestination(url, { allowPrivate: false, resolve: this.deps.resolveHost ?? systemResolve });
      if ("notPublic" in checked) {
        throw environmentInvalid(`The feature ${feature.id} is on ${host}, which is not a public address (${checked.notPublic}); Pier does not fetch from it unless PIER_FEATURE_REGISTRY_ALLOW_PRIVATE is set.`);
      }
    }
  }

  /** Resolves when the rebuilds under way are done (a closing Pier, and tests, wait for them). */
  async settled(): Promise<void> {
    await Promise.all([...this.building.values(), ...this.rebuilding.values()]);
  }
}

/** The name sessions run as: the file's remoteUser (else containerUser) without a group; none for a bare uid (the pod user has uid 1000 whatever it asks). */
function podUserName(config: DevcontainerConfig): string | null {
  const name = (config.remoteUser ?? config.containerUser)?.split(":")[0] ?? null;
  return name && !/^\d+$/.test(name) ? name : null;
}

function environmentInvalid(sentence: string): AppError {
  return new AppError(400, "environment_invalid", sentence);
}

function podKeyId(key: PodKey): string {
  return `${key.repoId}/${key.userId}`;
}
