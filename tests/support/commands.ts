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
