/**
 * A repository's environment: what its pods are made from. Read from the repo's own mirror (never
 * from a pod): its devcontainer.json (the Development Container spec that Codespaces, Coder, DevPod
 * and VS Code read), else the image named on the repo, else Pier's workspace image. These are the
 * words the rest of Pier uses for it; the parsing is in devcontainer-config.ts, the building in
 * image-build.ts, the commands in lifecycle.ts.
 */

/** One command of a lifecycle step: a string runs in a shell, an array runs as it is. */
export type LifecycleCommand = { shell: string } | { argv: string[] };

/**
 * A lifecycle step as the spec allows it: a string, an array, or an object whose values (each a
 * string or an array) run in parallel, named by their keys. A string or an array is one unnamed command.
 */
export interface LifecycleStep {
  commands: Array<{ name: string | null; command: LifecycleCommand }>;
}

export const LIFECYCLE_STEPS = ["onCreateCommand", "updateContentCommand", "postCreateCommand", "postStartCommand", "postAttachCommand"] as const;
export type LifecycleName = (typeof LIFECYCLE_STEPS)[number];

/** A port the repository names (forwardPorts, with portsAttributes' label), for the preview. */
export interface EnvironmentPort {
  port: number;
  label: string | null;
  /** portsAttributes' onAutoForward or `"elevateIfNeeded"` aside: whether this is the app to open first. */
  app: boolean;
}

/** A key of the configuration Pier does not apply, with why, said on the repo and session pages. */
export interface RefusedKey {
  key: string;
  reason: string;
}

/**
 * A devcontainer.json as Pier applies it. Every path is relative to the repository's root, in
 * POSIX form, and never leaves it (a configuration that points outside is refused as a whole).
 */
export interface DevcontainerConfig {
  /** Where the file is in the repository, e.g. ".devcontainer/devcontainer.json". */
  configPath: string;
  /** `image`, when the configuration names one and builds nothing. */
  image: string | null;
  build: {
    /** The Dockerfile, from the repository's root. */
    dockerfile: string;
    /** The build context, from the repository's root ("" for the root itself). */
    context: string;
    args: Record<string, string>;
    target: string | null;
  } | null;
  /**
   * Features by their id as written, with their options. A local feature's id is rewritten to its
   * folder from the repository's root ("./x" next to the file becomes ".devcontainer/x").
   */
  features: Array<{ id: string; local: boolean; options: Record<string, string | boolean> }>;
  containerEnv: Record<string, string>;
  /** For what runs in the pod; a `${containerEnv:X}` in a value is put in from the pod's own environment when it is made (container-env.ts). */
  remoteEnv: Record<string, string>;
  remoteUser: string | null;
  containerUser: string | null;
  lifecycle: Partial<Record<LifecycleName, LifecycleStep>>;
  /**
   * The step a session waits for before it opens; later ones run on in the background. When the
   * file names none, postCreateCommand (DEFAULT_WAIT_FOR), not the spec's updateContentCommand.
   */
  waitFor: LifecycleName;
  ports: EnvironmentPort[];
  /** Asked-for resources, before the admin's pod limits clamp them. */
  hostRequirements: { cpus: number | null; memoryMb: number | null };
  refused: RefusedKey[];
}

/** Where a pod's environment comes from: a devcontainer, the image named on the repo, or Pier's own. */
export type EnvironmentSource = "devcontainer" | "image" | "default";
