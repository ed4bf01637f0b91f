import type Docker from "dockerode";
import { createReadStream, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join, posix } from "node:path";
import { AppError } from "../infra/errors.ts";
import { KeyedLock } from "../infra/keyed-lock.ts";
import type { Mirrors } from "../repos/mirrors.ts";
import { dockerMessage, followProgress } from "../runtime/docker-progress.ts";
import { BuildLog } from "./build-log.ts";
import { buildWithFeatures, writeDockerForBuilds } from "./devcontainer-cli.ts";
import type { DevcontainerConfig } from "./environment.ts";
import { copyFeatureFolder } from "./feature-folder.ts";
import { isRepoPath } from "./repo-path.ts";

/** The tar of a build's context, read from the mirror into the scratch directory before the engine gets it. */
const MAX_CONTEXT_BYTES = 512 * 1024 * 1024;
/** A Dockerfile build that takes longer is stopped (the engine stops a build whose client goes). */
const BUILD_TIMEOUT_MS = 30 * 60 * 1000;
/** The folder of the one Dockerfile that gives a named image Pier's labels. */
const LABELLED_IMAGE_CONTEXT = join(import.meta.dir, "labelled-image");

export const LABEL_ENV_HASH = "pier.env-hash";
const LABEL_INSTANCE = "pier.instance";

/** One environment to have an image of: a repository's devcontainer configuration at a commit of its mirror. */
export interface EnvironmentBuild {
  repoId: string;
  /** The commit the configuration was read at: the build's context and local features come from it. */
  commit: string;
  config: DevcontainerConfig;
  /** The configuration's content hash (with the files it builds from): the image's tag. */
  hash: string;
}

export interface EnvironmentImagesOptions {
  docker: Docker;
  mirrors: Mirrors;
  /** A directory of the server's own under the data dir: each build's context and staged features, removed after it. */
  scratchDir: string;
  /** The pods' network mode: a repository's build runs its steps on it too. */
  network: () => string;
  /** This Pier's id, labelled on the images it builds. */
  instanceId: string;
}

interface EngineEvent {
  stream?: string;
  status?: string;
  progressDetail?: { total?: number };
  aux?: { ID?: string };
}

/**
 * The images pods are made from when a repository has a devcontainer: built from its `image` or
 * its Dockerfile, then its features, and tagged by the configuration's hash, so a second pod (or a
 * second Pier start) reuses the image instead of building again. A repository's Dockerfile builds
 * from the mirror's objects with no host mounts, no secrets and the pods' network mode.
 */
export class EnvironmentImages {
  /** Builds under way by tag: a second session asking for the same image joins the first's build. */
  private building = new Map<string, { log: BuildLog; image: Promise<string> }>();
  /**
   * The devcontainer CLI's legacy-builder path hands the features to the build through one fixed
   * image name (dev_container_feature_content_temp): two feature builds at once could swap their
   * contents, so this Pier runs them one at a time.
   */
  private featureBuilds = new KeyedLock();
  /** The docker wrapper, once the scratch directory is ready (see prepare). */
  private dockerForBuilds: string | null = null;

  constructor(private options: EnvironmentImagesOptions) {}

  /** The tag of an environment's image: a valid, lowercase Docker reference. */
  tagFor(repoId: string, hash: string): string {
    if (!/^[a-z0-9]+$/.test(repoId) || !/^[a-z0-9]{16,}$/.test(hash)) throw new Error("A repository id and an environment hash are lowercase letters and digits.");
    return `pier-env-${repoId.slice(0, 12)}:${hash.slice(0, 16)}`;
  }

  /** Whether the engine has the environment's image already (built before, by anyone). */
  async has(repoId: string, hash: string): Promise<boolean> {
    return (await this.imageId(this.tagFor(repoId, hash))) !== null;
  }

  /**
   * The image to make the environment's pod from: the one tagged for it if the engine has it,
   * else built now, its log streamed to `log` line by line. Fails with environment_build_failed
   * and the log's last lines.
   */
  ensure(build: EnvironmentBuild, log: (line: string) => void): Promise<string> {
    const tag = this.tagFor(build.repoId, build.hash);
    const running = this.building.get(tag);
    if (running) {
      running.log.listen(log);
      return running.image;
    }
    const buildLog = new BuildLog();
    buildLog.listen(log);
    const image = this.reuseOrBuild(tag, build, buildLog).finally(() => this.building.delete(tag));
    this.building.set(tag, { log: buildLog, image });
    return image;
  }

  private async reuseOrBuild(tag: string, build: EnvironmentBuild, log: BuildLog): Promise<string> {
    if (await this.imageId(tag)) return tag;
    const dockerPath = this.prepare();
    const work = mkdtempSync(join(this.options.scratchDir, "build-"));
    try {
      const labels = { [LABEL_ENV_HASH]: build.hash, [LABEL_INSTANCE]: this.options.instanceId };
      const { config } = build;
      const hasFeatures = config.features.length > 0;
      let base: string;
      if (config.build) base = await this.buildDockerfile(build, config.build, hasFeatures ? null : tag, labels, work, log);
      else if (config.image) base = await this.present(config.image, log);
      else throw new Error(`${config.configPath} names neither an image nor a Dockerfile to build.`);
      if (hasFeatures) await this.featureBuilds.run("features", () => this.buildFeatures(build, base, tag, labels, work, dockerPath, log));
      else if (!config.build) await this.label(base, tag, labels, log);
      return tag;
    } catch (error) {
      log.line(error instanceof Error ? error.message : String(error));
      throw new AppError(422, "environment_build_failed", `Building the repository's environment failed:\n${log.tail()}`);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }

  /**
   * The configuration's Dockerfile built from its context as the mirror has it at the commit,
   * tagged `tag` (or, when features follow, left untagged and named by its id).
   */
  private async buildDockerfile(build: EnvironmentBuild, spec: NonNullable<DevcontainerConfig["build"]>, tag: string | null, labels: Record<string, string>, work: string, log: BuildLog): Promise<string> {
    const { context, dockerfile } = spec;
    if (!isRepoPath(context) || !isRepoPath(dockerfile)) throw new Error("The build's context and Dockerfile must be paths inside the repository.");
    const inContext = posix.relative(context || ".", dockerfile);
    if (!inContext || inContext === ".." || inContext.startsWith("../")) {
      throw new Error(`The Dockerfile ${dockerfile} is outside the build context ${context || "(the repository's root)"}: Docker reads a Dockerfile from inside its context, so set build.context to a folder that holds it.`);
    }
    const tar = join(work, "context.tar");
    await this.options.mirrors.archive(build.repoId, build.commit, context, tar, MAX_CONTEXT_BYTES);
    log.line(`Building ${dockerfile}${spec.target ? ` (stage ${spec.target})` : ""} from ${context || "the repository's root"} at ${build.commit.slice(0, 12)}…`);
    const stream = await this.options.docker
      .buildImage(createReadStream(tar), {
        ...(tag ? { t: tag } : {}),
        dockerfile: inContext,
        buildargs: spec.args,
        ...(spec.target ? { target: spec.target } : {}),
        labels,
        networkmode: this.options.network(),
        rm: true,
        forcerm: true,
        abortSignal: AbortSignal.timeout(BUILD_TIMEOUT_MS),
      })
      .catch((error: Error) => {
        throw new Error(dockerMessage(error));
      });
    return this.follow(stream, log);
  }

  /** Follows an engine build to its end, its output into the log; the built image's id. */
  private async follow(stream: NodeJS.ReadableStream, log: BuildLog): Promise<string> {
    const output = log.stream();
    let id: string | null = null;
    try {
      await followProgress(this.options.docker, stream, (event: EngineEvent) => {
        if (event.stream) output.write(event.stream);
        if (event.aux?.ID) id = event.aux.ID;
      });
    } catch (error) {
      throw new Error(dockerMessage(error as Error));
    } finally {
      output.end();
    }
    if (!id) throw new Error("The engine finished the build without naming the image it built.");
    return id;
  }

  /**
   * A named image, pulled if the engine does not have it; its id, so no name the repository chose
   * reaches a command line.
   */
  private async present(image: string, log: BuildLog): Promise<string> {
    const found = await this.imageId(image);
    if (found) return found;
    log.line(`Pulling ${image}…`);
    try {
      const stream = await this.options.docker.pull(image);
      await followProgress(this.options.docker, stream, (event: EngineEvent) => {
        // Each layer's byte counts would drown the log; its steps (pulled, verified) are kept.
        if (event.status && !event.progressDetail?.total) log.line(event.status);
      });
    } catch (error) {
      throw new Error(`Could not pull ${image}: ${dockerMessage(error as Error)}`);
    }
    const pulled = await this.imageId(image);
    if (!pulled) throw new Error(`The engine pulled ${image} but does not have it.`);
    return pulled;
  }

  /** A named image under the environment's tag, with Pier's labels (a build that adds only them). */
  private async label(base: string, tag: string, labels: Record<string, string>, log: BuildLog): Promise<void> {
    const stream = await this.options.docker.buildImage({ context: LABELLED_IMAGE_CONTEXT, src: ["Dockerfile"] }, { t: tag, buildargs: { BASE: base }, labels, networkmode: this.options.network(), rm: true, forcerm: true });
    await this.follow(stream, log);
  }

  /**
   * The features on top of `base`, built by the devcontainer CLI from a folder staged here: a
   * generated devcontainer.json naming the base, the features with their options and the users,
   * and each local feature's folder copied from the mirror at the commit.
   */
  private async buildFeatures(build: EnvironmentBuild, base: string, tag: string, labels: Record<string, string>, work: string, dockerPath: string, log: BuildLog): Promise<void> {
    const { config } = build;
    const folder = join(work, "features");
    const devcontainer = join(folder, "workspace", ".devcontainer");
    mkdirSync(devcontainer, { recursive: true, mode: 0o700 });
    const features: Record<string, Record<string, string | boolean>> = {};
    for (const [index, feature] of config.features.entries()) {
      if (!feature.local) {
        // The CLI would read a path as a folder beside the staged file, which is Pier's, not the repository's.
        if (/^[./]/.test(feature.id)) throw new Error(`The feature "${feature.id}" is a path, not a feature from a registry.`);
        // A feature from a registry is the CLI's to fetch; where none is reachable it fails with the registry's sentence.
        features[feature.id] = feature.options;
        continue;
      }
      const slot = `local-${index}`;
      await copyFeatureFolder(this.options.mirrors, build.repoId, build.commit, feature.id, join(devcontainer, slot), log);
      features[`./${slot}`] = feature.options;
    }
    const generated = {
      image: base,
      features,
      ...(config.remoteUser ? { remoteUser: config.remoteUser } : {}),
      ...(config.containerUser ? { containerUser: config.containerUser } : {}),
    };
    writeFileSync(join(devcontainer, "devcontainer.json"), JSON.stringify(generated, null, 2), { flag: "wx", mode: 0o600 });
    await buildWithFeatures({ folder, tag, labels, network: this.options.network(), dockerPath, engine: this.engineEnv() }, log);
  }

  /**
   * Readies the scratch directory on this process's first build: what a killed server's builds
   * left there is removed (none of this process's has started yet), and the docker wrapper is
   * written. Returns the wrapper's path.
   */
  private prepare(): string {
    if (this.dockerForBuilds) return this.dockerForBuilds;
    const { scratchDir } = this.options;
    mkdirSync(scratchDir, { recursive: true, mode: 0o700 });
    for (const name of readdirSync(scratchDir)) if (name.startsWith("build-")) rmSync(join(scratchDir, name), { recursive: true, force: true });
    this.dockerForBuilds = writeDockerForBuilds(scratchDir);
    return this.dockerForBuilds;
  }

  /** How the docker CLI reaches the engine dockerode talks to. */
  private engineEnv(): Record<string, string> {
    const socketPath = (this.options.docker.modem as { socketPath?: unknown }).socketPath;
    if (typeof socketPath === "string" && socketPath) return { DOCKER_HOST: `unix://${socketPath}` };
    // dockerode read these from the environment (tcp, ssh, TLS): the docker CLI reads them the same way.
    const engine: Record<string, string> = {};
    for (const name of ["DOCKER_HOST", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH"]) {
      const value = process.env[name];
      if (value) engine[name] = value;
    }
    return engine;
  }

  private imageId(image: string): Promise<string | null> {
    return this.options.docker
      .getImage(image)
      .inspect()
      .then(
        (info) => info.Id,
        () => null,
      );
  }
}
