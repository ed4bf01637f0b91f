/**
 * Sessions in pods made from the repository's own devcontainer.json, end to end: a real engine,
 * images built FROM the suite's local workspace image (no registry), pods on network none.
 *
 * - a Dockerfile with a build arg, a local feature that installs a command, containerEnv,
 *   remoteEnv and remoteUser: the session's pod and terminal have them all; postCreateCommand ran
 *   once across two sessions, postAttachCommand once per session, postStartCommand's object form
 *   both its commands;
 * - keys that would widen the pod (mounts, runArgs, capAdd, privileged): the pod has none of them,
 *   the API and the repo page list each;
 * - a failing postCreateCommand fails the session with its last lines; Try again after a fix works;
 * - a commit that changes the configuration makes the environment outdated; Rebuild keeps an
 *   uncommitted file of a live worktree, and its terminal gets a new shell saying why;
 * - a malformed file is a sentence naming its line, for the page and for a session;
 * - warmPods: a member's pod is made ahead, and their first session finds it running.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import Docker from "dockerode";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { signWebhook } from "../support/fake-github.ts";
import { commitFiles, makeRemoteRepo, type RemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, closeForGood, json, setUpAdmin, signIn, startTestPier } from "../support/pier.ts";
import { type SessionJson, activeSession, addRepo, startSession, waitForState } from "../support/sessions.ts";
import { TermClient } from "../support/term-client.ts";
import { until } from "../support/until.ts";
import { ensureTestWorkspaceImage } from "../support/workspace-image.ts";

const docker = new Docker();

/** A pattern matching this text exactly. */
const literal = (text: string) => new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));

interface EnvironmentJson {
  source: string;
  configPath: string | null;
  imageRef: string;
  state: string;
  error: string | null;
  outdated: boolean;
  refused: Array<{ key: string; reason: string }>;
  ports: Array<{ port: number; label: string | null }>;
}

/** The session's server-sent events as text, until `enough` says so (or 20 s). */
async function readEvents(pier: TestPier, sessionId: string, cookie: string, enough: (text: string) => boolean): Promise<string> {
  const res = await pier.fetch(`/api/sessions/${sessionId}/events`, { headers: { cookie } });
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = "";
  const deadline = Date.now() + 20_000;
  try {
    while (!enough(text) && Date.now() < deadline) {
      const { value, done } = await Promise.race([reader.read(), Bun.sleep(1000).then(() => ({ value: undefined, done: false }))]);
      if (done) break;
      if (value) text += decoder.decode(value, { stream: true });
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return text;
}

describe("sessions in the repository's own environment", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "pier-devcontainer-"));
  let image: string;
  let pier: TestPier;
  let cookie: string;
  const repoIds: string[] = [];

  const environmentOf = async (repoId: string, who = cookie) =>
    (await (await pier.fetch(`/api/repos/${repoId}/environment`, { headers: { cookie: who } })).json()) as EnvironmentJson;
  /** Runs a script in the session's pod as the pod user (as the session's own commands run). */
  const inPod = async (session: SessionJson, script: string, cwd = session.worktreePath) => {
    const result = await pier.pier.runtime.exec({ id: session.podId!, image: "" }, ["bash", "-lc", script], { cwd, timeoutMs: 60_000 });
    return result.stdout.trim();
  };
  const addDevcontainerRepo = async (name: string, files: Record<string, string>) => {
    const remote = makeRemoteRepo(name);
    commitFiles(remote, files, "The repository's environment");
    const id = await addRepo(pier, cookie, remote.path, name);
    repoIds.push(id);
    return { remote, id };
  };

  beforeAll(async () => {
    image = await ensureTestWorkspaceImage();
    pier = await startTestPier({ PIER_RUNTIME: "docker", PIER_POD_NETWORK: "none", PIER_WORKSPACE_IMAGE: image, PIER_ALLOW_LOCAL_REPOS: "1" }, dataDir);
    cookie = await setUpAdmin(pier);
  }, 120_000);

  afterAll(async () => {
    // The environments' images go with the pods.
    await closeForGood(pier);
    rmSync(dataDir, { recursive: true, force: true });
  }, 120_000);

  describe("a Dockerfile, a local feature, env, a user and lifecycle commands", () => {
    let repo: { remote: RemoteRepo; id: string };
    let first: SessionJson;
    let second: SessionJson;

    beforeAll(async () => {
      repo = await addDevcontainerRepo("toolchain", {
        ".devcontainer/devcontainer.json": `{
          // Comments and trailing commas, as people write them.
          "build": { "dockerfile": "Dockerfile", "args": { "GREETING": "hello-from-the-build-arg", }, },
          "features": { "./hello-feature": { "word": "feature-word" } },
          "containerEnv": { "FROM_CONTAINER_ENV": "container-env-value" },
          "remoteEnv": { "FROM_REMOTE_ENV": "remote-env-value", "PATH": "\${containerEnv:PATH}:/opt/extra-bin" },
          "remoteUser": "dev",
          "onCreateCommand": "echo onCreate >> /tmp/lifecycle.log",
          "postCreateCommand": "echo postCreate $(whoami) >> /tmp/lifecycle.log",
          "postStartCommand": { "a": "echo postStart-a >> /tmp/lifecycle.log", "b": ["sh", "-c", "echo postStart-b >> /tmp/lifecycle.log"] },
          "postAttachCommand": ["sh", "-c", "echo \\"postAttach $PIER_SESSION_ID $(basename $PWD)\\" >> /tmp/lifecycle.log"],
          "hostRequirements": { "memory": "1gb" },
          "forwardPorts": [3000],
          "portsAttributes": { "3000": { "label": "Web app", "onAutoForward": "openPreview" } },
        }`,
        ".devcontainer/Dockerfile": `FROM ${image}\nARG GREETING\nUSER root\nRUN useradd --create-home --uid 1001 --shell /bin/bash dev && echo "$GREETING" > /etc/greeting\n`,
        ".devcontainer/hello-feature/devcontainer-feature.json": JSON.stringify({ id: "hello-feature", version: "1.0.0", options: { word: { type: "string", default: "none" } } }),
        ".devcontainer/hello-feature/install.sh": `#!/bin/sh\nset -e\nprintf '#!/bin/sh\\necho "feature says %s"\\n' "$WORD" > /usr/local/bin/hello-feature\nchmod 0755 /usr/local/bin/hello-feature\n`,
      });
      first = await activeSession(pier, cookie, { repoId: repo.id });
      second = await activeSession(pier, cookie, { repoId: repo.id });
    }, 300_000);

    test("the pod has the feature's command, the build arg, containerEnv, and runs as remoteUser", async () => {
      expect(await inPod(first, "hello-feature")).toBe("feature says feature-word");
      expect(await inPod(first, "cat /etc/greeting")).toBe("hello-from-the-build-arg");
      expect(await inPod(first, 'echo "$FROM_CONTAINER_ENV"')).toBe("container-env-value");
      // It asked for less memory than the admin allows: it gets what it asked for.
      expect((await docker.getContainer(first.podId!).inspect()).HostConfig.Memory).toBe(1024 * 1024 * 1024);
      expect(await inPod(first, "whoami; id -u; echo $HOME")).toBe("dev\n1000\n/home/dev");
      // The worktree is the pod user's to write, as ever.
      expect(await inPod(first, "touch made-by-dev && stat -c %U made-by-dev")).toBe("dev");
    });

    test("the terminal has remoteEnv and is the remote user's shell", async () => {
      const term = await TermClient.connect(pier.url, first.id, { cookie });
      try {
        await term.run('echo "[$FROM_REMOTE_ENV/$(whoami)/$(hello-feature)]"', literal("[remote-env-value/dev/feature says feature-word]"));
        // remoteEnv built on the pod's own PATH (the image's, then the addition), which the login
        // shell's /etc/profile did not set back; Pier's own helpers around it as ever.
        await term.run('echo "<$PATH>"', /<[^>]*:\/usr\/local\/sbin:\/usr\/local\/bin:[^>]*:\/opt\/extra-bin:[^>]*>/);
      } finally {
        term.close();
      }
    }, 60_000);

    test("postCreateCommand ran once across two sessions, postAttachCommand once per session in its worktree", async () => {
      const log = (await inPod(first, "cat /tmp/lifecycle.log")).split("\n");
      expect(log.filter((line) => line === "onCreate")).toHaveLength(1);
      expect(log.filter((line) => line === "postCreate dev")).toHaveLength(1);
      expect(log.filter((line) => line === "postStart-a")).toHaveLength(1);
      expect(log.filter((line) => line === "postStart-b")).toHaveLength(1);
      for (const session of [first, second]) {
        expect(log.filter((line) => line === `postAttach ${session.id} ${session.worktreePath.split("/").at(-1)}`)).toHaveLength(1);
      }
      // In order: the pod's own steps before any session's attach.
      expect(log.indexOf("postCreate dev")).toBeLessThan(log.findIndex((line) => line.startsWith("postAttach")));
    });

    test("the environment says where it comes from, that it is ready, and the ports it names", async () => {
      const environment = await environmentOf(repo.id);
      expect(environment).toMatchObject({
        source: "devcontainer",
        configPath: ".devcontainer/devcontainer.json",
        state: "ready",
        error: null,
        outdated: false,
        refused: [],
        ports: [{ port: 3000, label: "Web app" }],
      });
      expect(environment.imageRef).toStartWith(`pier-env-${repo.id.slice(0, 12)}:`);
      const pod = await docker.getContainer(first.podId!).inspect();
      expect(pod.Config.Image).toBe(environment.imageRef);
    });

    test("a commit to the configuration makes it outdated; Rebuild keeps a live worktree's uncommitted file and gives its terminal a new shell", async () => {
      await inPod(second, "echo 'not committed' > keep-me.txt");
      const term = await TermClient.connect(pier.url, second.id, { cookie });
      try {
        commitFiles(repo.remote, {
          ".devcontainer/devcontainer.json": `{
            "build": { "dockerfile": "Dockerfile", "args": { "GREETING": "hello-from-the-build-arg" } },
            "features": { "./hello-feature": { "word": "feature-word" } },
            "containerEnv": { "FROM_CONTAINER_ENV": "the-new-value" },
            "remoteUser": "dev",
            "postCreateCommand": "echo postCreate again >> /tmp/lifecycle.log"
          }`,
        }, "A new value for the environment");
        // A session started now fetches the repository: the person's pod no longer matches it.
        const third = await activeSession(pier, cookie, { repoId: repo.id });
        expect(third.podId).toBe(second.podId);
        expect((await environmentOf(repo.id)).outdated).toBe(true);
        const page = await (await pier.fetch(`/sessions/${second.id}`, { headers: { cookie } })).text();
        expect(page).toContain("Environment outdated");
        expect(page).toContain(`/sessions/${second.id}/environment/rebuild`);

        const rebuild = await pier.fetch(`/api/repos/${repo.id}/environment/rebuild`, { method: "POST", headers: { cookie } });
        expect(rebuild.status).toBe(202);
        const again = await pier.fetch(`/api/repos/${repo.id}/environment/rebuild`, { method: "POST", headers: { cookie } });
        expect(again.status).toBe(409);
        const rebuilt = await until("the rebuild to finish", () => environmentOf(repo.id), (e) => e.state !== "building", 240_000);
        expect(rebuilt).toMatchObject({ state: "ready", outdated: false, error: null });

        const now = await waitForState(pier, cookie, second.id, "active");
        expect(now.podId).not.toBe(second.podId);
        expect(await inPod(now, "cat keep-me.txt")).toBe("not committed");
        expect(await inPod(now, 'echo "$FROM_CONTAINER_ENV"')).toBe("the-new-value");
        expect(await inPod(now, "cat /tmp/lifecycle.log")).toBe("postCreate again");
        // The shell went with the old pod: the viewer's socket closed (the page reconnects), and the
        // terminal it finds is a new shell in the same worktree that says why first.
        expect((await term.closed).code).toBe(1012);
        const reconnected = await TermClient.connect(pier.url, second.id, { cookie });
        try {
          await reconnected.waitFor(/your pod was rebuilt/, 60_000);
          await reconnected.run('echo "[$(whoami) in $(basename $PWD)]"', literal(`[dev in ${second.worktreePath.split("/").at(-1)}]`), 30_000);
        } finally {
          reconnected.close();
        }
      } finally {
        term.close();
      }
    }, 300_000);
  });

  test("keys that would widen the pod are refused, said on the API and the page, and the pod has none of them; a postStartCommand's background process keeps nothing waiting", async () => {
    const { id } = await addDevcontainerRepo("widening", {
      ".devcontainer.json": JSON.stringify({
        image,
        mounts: ["source=/etc,target=/host-etc,type=bind"],
        runArgs: ["--privileged", "--network=host"],
        capAdd: ["SYS_ADMIN"],
        privileged: true,
        containerEnv: { STILL_APPLIED: "yes" },
        hostRequirements: { cpus: 64, memory: "512gb" },
        // A service left running in the background, its output still open: the session does not wait for it.
        postStartCommand: "sleep 600 &",
      }),
    });
    const session = await activeSession(pier, cookie, { repoId: id });
    const environment = await environmentOf(id);
    expect(environment.refused.map((r) => r.key).sort()).toEqual(["capAdd", "mounts", "privileged", "runArgs"]);
    for (const refused of environment.refused) expect(refused.reason.length).toBeGreaterThan(10);
    const pod = await docker.getContainer(session.podId!).inspect();
    expect(pod.HostConfig.Privileged).toBe(false);
    expect(pod.HostConfig.CapAdd ?? []).toEqual([]);
    expect(pod.HostConfig.NetworkMode).toBe("none");
    // It asked for more than the admin allows: it gets the admin's limits (4096 MiB, 2 CPUs by default).
    expect(pod.HostConfig.Memory).toBe(4096 * 1024 * 1024);
    expect(pod.HostConfig.NanoCpus).toBe(2e9);
    expect(pod.Mounts.map((m) => m.Destination)).not.toContain("/host-etc");
    expect(await inPod(session, 'echo "$STILL_APPLIED"')).toBe("yes");
    const page = await (await pier.fetch(`/repos/${id}`, { headers: { cookie } })).text();
    for (const key of ["mounts", "runArgs", "capAdd", "privileged"]) expect(page).toContain(`<code>${key}</code>`);
  }, 300_000);

  test("a failing postCreateCommand fails the session with its last lines; Try again after a fix works", async () => {
    const { remote, id } = await addDevcontainerRepo("failing", {
      ".devcontainer/devcontainer.json": JSON.stringify({ image, postCreateCommand: "echo step-one; echo the-last-words >&2; exit 7" }),
    });
    const started = (await (await startSession(pier, cookie, { repoId: id })).json()) as SessionJson;
    const failed = await waitForState(pier, cookie, started.id, "failed", 180_000);
    expect(failed.error).toContain("postCreateCommand failed (exit 7)");
    expect(failed.error).toContain("the-last-words");
    const page = await (await pier.fetch(`/sessions/${started.id}`, { headers: { cookie } })).text();
    expect(page).toContain("the-last-words");
    // The Environment step showed the command's lines as they came (a page opened now still sees the steps).
    const events = await readEvents(pier, started.id, cookie, (text) => text.includes("step-one"));
    expect(events).toContain('"step":"environment"');
    expect(events).toContain("Running postCreateCommand");
    expect(page).toContain("Try again");

    commitFiles(remote, { ".devcontainer/devcontainer.json": JSON.stringify({ image, postCreateCommand: "echo fixed > /tmp/fixed" }) }, "Fix the environment");
    const retried = await pier.fetch(`/api/sessions/${started.id}/resume`, { method: "POST", headers: { cookie } });
    expect(retried.status).toBe(200);
    const active = await waitForState(pier, cookie, started.id, "active", 180_000);
    expect(await inPod(active, "cat /tmp/fixed")).toBe("fixed");
  }, 300_000);

  test("a malformed devcontainer.json is a sentence naming its line, on the API and for a session", async () => {
    const { id } = await addDevcontainerRepo("malformed", {
      ".devcontainer/devcontainer.json": `{\n  "image": "${image}",\n  "containerEnv": { "A": "1" }\n  "remoteUser": "pier"\n}\n`,
    });
    const started = (await (await startSession(pier, cookie, { repoId: id })).json()) as SessionJson;
    const failed = await waitForState(pier, cookie, started.id, "failed", 120_000);
    expect(failed.error).toContain(".devcontainer/devcontainer.json line 4");
    const environment = await environmentOf(id);
    expect(environment).toMatchObject({ source: "devcontainer", state: "failed" });
    expect(environment.error).toContain("line 4");
  }, 200_000);

  test("warmPods: a member's pod is made ahead, and their first session finds it running", async () => {
    const { id } = await addDevcontainerRepo("warm", {
      ".devcontainer/devcontainer.json": JSON.stringify({ image, postCreateCommand: "echo warmed > /tmp/warmed" }),
    });
    const made = await pier.fetch("/api/users", json({ username: "mira", password: "a long enough password", role: "member" }, { cookie }));
    expect(made.status).toBe(201);
    const mira = await signIn(pier, "mira", "a long enough password");
    const turnedOn = await pier.fetch(`/api/repos/${id}`, { ...json({ warmPods: true }, { cookie }), method: "PATCH" });
    expect(((await turnedOn.json()) as { warmPods: boolean }).warmPods).toBe(true);
    const repoOf = async () => (await (await pier.fetch(`/api/repos/${id}`, { headers: { cookie: mira } })).json()) as { pod: { state: string; containerId: string } | null };
    const warmed = await until("mira's pod to be made ahead", repoOf, (r) => r.pod?.state === "running", 180_000);
    const session = await activeSession(pier, mira, { repoId: id });
    expect(session.podId).toBe(warmed.pod!.containerId);
    expect(await inPod(session, "cat /tmp/warmed")).toBe("warmed");
  }, 300_000);

  test("a feature from a registry on the server's own network is refused before anything is fetched", async () => {
    const { id } = await addDevcontainerRepo("inward", {
      ".devcontainer/devcontainer.json": JSON.stringify({ image, features: { "127.0.0.1:5000/team/features/secret:1": {} } }),
    });
    const started = (await (await startSession(pier, cookie, { repoId: id })).json()) as SessionJson;
    const failed = await waitForState(pier, cookie, started.id, "failed", 120_000);
    expect(failed.error).toContain("127.0.0.1:5000/team/features/secret:1");
    expect(failed.error).toContain("not a public address");
  }, 200_000);

  test("a member's rebuild makes their own pod again, never another person's", async () => {
    const [repoId] = repoIds;
    const mira = await signIn(pier, "mira", "a long enough password");
    const adminPod = ((await (await pier.fetch(`/api/repos/${repoId}`, { headers: { cookie } })).json()) as { pod: { containerId: string } }).pod.containerId;
    const rebuild = await pier.fetch(`/api/repos/${repoId}/environment/rebuild`, { method: "POST", headers: { cookie: mira } });
    expect(rebuild.status).toBe(202);
    await until("mira's rebuild to finish", () => environmentOf(repoId!, mira), (e) => e.state !== "building", 240_000);
    const miraPod = ((await (await pier.fetch(`/api/repos/${repoId}`, { headers: { cookie: mira } })).json()) as { pod: { containerId: string } | null }).pod;
    expect(miraPod?.containerId).toBeTruthy();
    expect(miraPod!.containerId).not.toBe(adminPod);
    const still = await docker.getContainer(adminPod).inspect();
    expect(still.State.Running).toBe(true);
    // Nor can a member rebuild from another person's session page.
    const [adminSession] = (await (await pier.fetch(`/api/sessions?repoId=${repoId}&state=active`, { headers: { cookie } })).json()) as SessionJson[];
    const fromPage = await pier.fetch(`/sessions/${adminSession!.id}/environment/rebuild`, { method: "POST", headers: { cookie: mira } });
    expect(fromPage.status).toBe(404);
  }, 300_000);

  test("GitHub's push to the default branch prebuilds the environment, before anyone has a pod", async () => {
    const secret = "prebuild-webhook-secret";
    const saved = await pier.fetch("/api/settings", { ...json({ githubWebhookSecret: secret }, { cookie }), method: "PUT" });
    expect(saved.status).toBe(200);
    const { id } = await addDevcontainerRepo("prebuilt", {
      ".devcontainer/devcontainer.json": JSON.stringify({ build: { dockerfile: "Dockerfile" } }),
      ".devcontainer/Dockerfile": `FROM ${image}\nRUN echo prebuilt > /tmp/prebuilt\n`,
    });
    const named = await pier.fetch(`/api/repos/${id}`, { ...json({ githubRepo: "octo/prebuilt" }, { cookie }), method: "PATCH" });
    expect(named.status).toBe(200);
    const images = () => docker.listImages({ filters: { reference: [`pier-env-${id.slice(0, 12)}`] } });
    expect(await images()).toEqual([]);
    const deliver = (ref: string) => {
      const body = JSON.stringify({ ref, repository: { full_name: "octo/prebuilt" } });
      return pier.fetch("/api/github/webhook", {
        method: "POST",
        body,
        headers: { "content-type": "application/json", "x-github-event": "push", "x-hub-signature-256": signWebhook(secret, body) },
      });
    };
    // A push to another branch builds nothing.
    expect((await deliver("refs/heads/feature/login")).status).toBe(204);
    await Bun.sleep(500);
    expect(await images()).toEqual([]);
    expect((await deliver("refs/heads/main")).status).toBe(204);
    const ready = await until("the prebuild", () => environmentOf(id), (e) => e.state === "ready" && e.source === "devcontainer", 180_000);
    expect((await docker.getImage(ready.imageRef).inspect()).Config.Labels?.["pier.env-hash"]).toBeTruthy();
    expect((await (await pier.fetch(`/api/repos/${id}`, { headers: { cookie } })).json()).pod).toBeNull();
  }, 240_000);

  test("bad input: a devcontainer path outside the spec's places, and a rebuild of another repository id", async () => {
    const [repoId] = repoIds;
    const bad = await pier.fetch(`/api/repos/${repoId}`, { ...json({ devcontainerPath: "../../etc/passwd" }, { cookie }), method: "PATCH" });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string; message: string } }).error.message).toContain("devcontainer.json");
    const missing = await pier.fetch("/api/repos/nosuchrepo/environment/rebuild", { method: "POST", headers: { cookie } });
    expect(missing.status).toBe(404);
    const strangers = await pier.fetch(`/api/repos/${repoId}/environment`);
    expect(strangers.status).toBe(401);
  });
});
