/** Small helpers the image builders share. */

export async function imageExists(tag: string): Promise<boolean> {
  const proc = Bun.spawn(["docker", "image", "inspect", tag], { stdout: "ignore", stderr: "ignore" });
  return (await proc.exited) === 0;
}

/** Runs a command in `cwd`, returns its stdout, and throws with its stderr if it fails. */
export async function run(cmd: string[], cwd: string): Promise<string> {
  const proc = Bun.spawn(cmd, { cwd, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (code !== 0) throw new Error(`${cmd[0]} exited with ${code}:\n${stderr.trim().split("\n").slice(-20).join("\n")}`);
  return stdout;
}

const DEBIAN_MIRROR = "http://deb.debian.org/debian";

/**
 * A Debian bookworm image made without a registry: a minimal root filesystem from mmdebstrap,
 * trimmed like debian:bookworm-slim (no manuals, docs or translations) and shaped by `hooks`
 * (mmdebstrap --customize-hook lines), then `docker import`ed as `tag` with `changes` (Dockerfile
 * instructions; a tarball import has no config of its own). Works in a temporary directory.
 */
export async function importDebianImage(options: { tag: string; include: string[]; hooks: string[]; changes: string[]; work: string }): Promise<void> {
  const rootfs = `${options.work}/rootfs.tar`;
  await run(
    [
      "mmdebstrap",
      "--variant=minbase",
      `--include=${options.include.join(",")}`,
      ...["man", "info", "doc", "locale"].map((dir) => `--dpkgopt=path-exclude=/usr/share/${dir}/*`),
      "--dpkgopt=path-include=/usr/share/doc/*/copyright",
      ...options.hooks.map((hook) => `--customize-hook=${hook}`),
      "bookworm",
      rootfs,
      // Named explicitly: without a mirror argument mmdebstrap would read sources from stdin.
      DEBIAN_MIRROR,
    ],
    options.work,
  );
  await run(["docker", "import", ...options.changes.flatMap((change) => ["--change", change]), rootfs, options.tag], options.work);
}
