import type Docker from "dockerode";
import { dockerMessage } from "./docker-progress.ts";

/**
 * A person's workspace as one engine holds it, for copying it to another (a pod being moved):
 * a directory of Pier's disk bound in (the local engine) or a volume of that engine, seen by a
 * helper container made from `image` at `workDir`, as the pod sees it. The server never reads
 * the workspace itself (what is in it is the pod's doing): the engine packs and unpacks it.
 */
export interface WorkspacePlace {
  image: string;
  workDir: string;
  mount: Docker.MountSettings;
  labels: Record<string, string>;
}

/** How long emptying a workspace may take before it is said to have failed. */
const EMPTY_WAIT_MS = 10 * 60_000;

/**
 * The workspace as a tar stream the engine makes (owners, modes and links as they are), read
 * through a helper container that is never started; `done` removes the helper once the stream
 * has been read (or given up on).
 */
export async function workspaceTar(docker: Docker, place: WorkspacePlace): Promise<{ tar: NodeJS.ReadableStream; done(): Promise<void> }> {
  const helper = await createHelper(docker, place, ["true"]);
  try {
    const tar = await helper.getArchive({ path: `${place.workDir}/.` });
    return { tar, done: () => helper.remove({ force: true }).then(() => undefined, () => undefined) };
  } catch (error) {
    await helper.remove({ force: true }).catch(() => undefined);
    throw new Error(`Could not read the workspace: ${dockerMessage(error as Error)}`);
  }
}

/** Unpacks a workspace's tar stream into this engine's (emptied first: what was there is a stale copy). */
export async function fillWorkspace(docker: Docker, place: WorkspacePlace, tar: NodeJS.ReadableStream): Promise<void> {
  await emptyWorkspace(docker, place);
  const helper = await createHelper(docker, place, ["true"]);
  try {
    await helper.putArchive(tar, { path: place.workDir });
  } catch (error) {
    throw new Error(`Could not write the workspace: ${dockerMessage(error as Error)}`);
  } finally {
    await helper.remove({ force: true }).catch(() => undefined);
  }
}

/**
 * Removes everything in the workspace, as root in a helper container that sees it alone (its top
 * directory stays: it is where the pod mounts it).
 */
export async function emptyWorkspace(docker: Docker, place: WorkspacePlace): Promise<void> {
  const helper = await createHelper(docker, place, ["find", place.workDir, "-mindepth", "1", "-delete"]);
  try {
    await helper.start();
    const ended = await Promise.race([helper.wait() as Promise<{ StatusCode: number }>, Bun.sleep(EMPTY_WAIT_MS).then(() => null)]);
    if (ended?.StatusCode !== 0) {
      const logs = ended ? (await helper.logs({ stdout: true, stderr: true, tail: 5 })).toString().trim() : "it took too long";
      throw new Error(`Could not empty the workspace: ${logs.slice(-300) || `exit code ${ended?.StatusCode}`}`);
    }
  } finally {
    await helper.remove({ force: true }).catch(() => undefined);
  }
}

/** A container of `place.image` with the workspace mounted and nothing else: no network, root, Pier's labels. */
function createHelper(docker: Docker, place: WorkspacePlace, command: string[]): Promise<Docker.Container> {
  return docker.createContainer({
    Image: place.image,
    Entrypoint: [],
    Cmd: command,
    User: "0:0",
    Labels: { ...place.labels, "pier.role": "workspace-copy" },
    HostConfig: { NetworkMode: "none", Mounts: [place.mount] },
  });
}
