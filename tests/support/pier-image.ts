/**
 * Pier's own image, built from the repository's Dockerfile as the published one is, and the
 * docker CLI the image tests drive it with.
 */
import { join } from "node:path";
import { ensureBunBaseImage } from "./base-image.ts";

const ROOT = join(import.meta.dir, "..", "..");

/**
 * Builds the image under `tag` (its layers are shared with every other build of the same files,
 * so a second tag costs little). The Bun base image is made first when the engine lacks it.
 */
export async function buildPierImage(tag: string): Promise<void> {
  await ensureBunBaseImage();
  // --network host: RUN steps (bun install) reach the npm registry the way this machine does.
  // --force-rm: the legacy builder would otherwise leave a stopped container behind a failed RUN.
  await docker(["build", "--network", "host", "--force-rm", "-t", tag, ROOT]);
}

/** Runs the docker CLI, returns stdout, throws with the tail of its output on failure. */
export async function docker(args: string[]): Promise<string> {
  const proc = Bun.spawn(["docker", ...args], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) {
    const tail = `${stdout}\n${stderr}`.trim().split("\n").slice(-40).join("\n");
    throw new Error(`docker ${args[0]} exited with ${code}:\n${tail}`);
  }
  return stdout;
}
