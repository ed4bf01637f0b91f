/**
 * A repository with a devcontainer.json (a Dockerfile FROM the suite's workspace image with a RUN
 * step, a local feature, a postCreateCommand): POST /api/sessions → active for
 *   - its first session ever (the image built cold, the pod made, the lifecycle commands run),
 *   - a first session once the image is built (the pod made anew: removed before each run),
 *   - a session on a warm pod (`warmPods`: the pod made and started ahead),
 * median of N runs each (one for the cold build), plus the server's peak memory.
 * Run: bun bench/environments.ts [runs]   (needs a Docker engine)
 */
import Docker from "dockerode";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { dirname, join } from "node:path";
import { makeRemoteRepo } from "../tests/support/git-fixtures.ts";
import { ensureTestWorkspaceImage } from "../tests/support/workspace-image.ts";
import { benchApi, benchToken, removeRepoPods, sessionUntilActive, startBenchPier } from "./pier-process.ts";

const runs = Number(process.argv[2] ?? 5);
const image = await ensureTestWorkspaceImage();
const pier = await startBenchPier("environments");
const base = pier.base;
const docker = new Docker();
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const api = benchApi(base);

/** The remote, with its environment committed. */
function repoWithDevcontainer(): string {
  const remote = makeRemoteRepo("envbench");
  const work = join(dirname(remote.path), "work");
  const files: Record<string, string> = {
    ".devcontainer/devcontainer.json": JSON.stringify({
      build: { dockerfile: "Dockerfile", args: { TOOL: "bench-tool" } },
      features: { "./tool": {} },
      postCreateCommand: "echo created > /tmp/created",
    }),
    ".devcontainer/Dockerfile": `FROM ${image}\nARG TOOL\nUSER root\nRUN echo "$TOOL" > /etc/tool\n`,
    ".devcontainer/tool/devcontainer-feature.json": JSON.stringify({ id: "tool", version: "1.0.0" }),
    ".devcontainer/tool/install.sh": "#!/bin/sh\nprintf '#!/bin/sh\\necho tool\\n' > /usr/local/bin/tool && chmod 0755 /usr/local/bin/tool\n",
  };
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(work, path)), { recursive: true });
    writeFileSync(join(work, path), content);
    if (path.endsWith(".sh")) chmodSync(join(work, path), 0o755);
  }
  remote.git("add", "-A");
  remote.git("commit", "--quiet", "-m", "Environment");
  remote.git("push", "--quiet", "origin", "main");
  Bun.spawnSync(["chmod", "-R", "a+rX", dirname(remote.path)]);
  return remote.path;
}

let repoId: string | null = null;
try {
  const token = await benchToken(base);
  const repo = await api("/api/repos", { method: "POST", token, body: JSON.stringify({ url: `file://${repoWithDevcontainer()}` }) });
  repoId = repo.id;

  const oneSession = async (): Promise<number> => {
    const { id, active } = await sessionUntilActive(api, token, repo.id);
    await api(`/api/sessions/${id}/end`, { method: "POST", token });
    return active;
  };

  const cold = [await oneSession()];
  const built: number[] = [];
  for (let i = 0; i < runs; i++) {
    await removeRepoPods(repo.id);
    built.push(await oneSession());
  }
  await removeRepoPods(repo.id);
  await api(`/api/repos/${repo.id}`, { method: "PATCH", token, body: JSON.stringify({ warmPods: true }) });
  for (let i = 0; i < 600; i++) {
    const now = await api(`/api/repos/${repo.id}`, { token });
    if (now.pod?.state === "running") break;
    await Bun.sleep(100);
  }
  await oneSession(); // the first session in the warmed pod runs its postCreateCommand
  const warm: number[] = [];
  for (let i = 0; i < runs; i++) warm.push(await oneSession());

  console.log(`A repository with a devcontainer: POST /api/sessions → active, ${runs} runs — ${cpus()[0]?.model} × ${cpus().length}, Bun ${Bun.version}, Docker ${(await docker.version()).Version}, ${new Date().toISOString().slice(0, 10)}\n`);
  console.log("| case | median | min | max |");
  console.log("|---|---|---|---|");
  for (const [name, xs] of [
    ["first session, image built cold (1 run)", cold],
    ["first session, image built before (pod made anew)", built],
    ["warm pod (warmPods)", warm],
  ] as const) {
    console.log(`| ${name} | ${median(xs).toFixed(0)} ms | ${Math.min(...xs).toFixed(0)} ms | ${Math.max(...xs).toFixed(0)} ms |`);
  }
  console.log(`\nPeak server memory (VmHWM) over the whole run: ${pier.memory().peak.toFixed(1)} MiB`);
} finally {
  if (repoId) {
    await removeRepoPods(repoId);
    for (const found of await docker.listImages({ filters: { reference: [`pier-env-${repoId.slice(0, 12)}`] } })) {
      await docker.getImage(found.Id).remove({ force: true }).catch(() => undefined);
    }
  }
  await pier.stop();
}
