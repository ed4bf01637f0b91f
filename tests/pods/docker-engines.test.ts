/**
 * Pods on several Docker engines: a second dockerd of the test's own (its own socket and data root,
 * never the machine's engine restarted) added through the API stands in for a remote host. Pods
 * are placed by the repo's pin, by labels and by room, never on a draining engine, and stay where
 * they were placed; the image a pod needs is copied there from the local engine (no registry), and
 * the session's progress says so. A session on the second engine runs its terminal. Pods there
 * fetch the mirror from Pier over HTTP, so they reach it on the host network.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ensureBareImage } from "../support/bare-image.ts";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, closeForGood, setUpAdmin, startTestPier } from "../support/pier.ts";
import { type SecondEngine, startSecondEngine } from "../support/second-engine.ts";
import { type SessionJson, activeSession, addRepo, startSession, waitForState } from "../support/sessions.ts";
import { TermClient } from "../support/term-client.ts";
import { dockerTestEnv } from "../support/workspace-image.ts";

let engine: SecondEngine;
let pier: TestPier;
let cookie: string;
let image: string;
let secondId: string;

const call = async (method: string, path: string, body?: unknown) => {
  const res = await pier.fetch(path, { method, headers: { cookie, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
};
/** The containers of a repo's pods on the second engine, by the labels Pier puts on them. */
const podsOnSecond = async (repoId: string) => (await engine.docker("ps", "-aq", "--filter", `label=pier.repo=${repoId}`)).split("\n").filter(Boolean);
const podsOnLocal = async (repoId: string) => {
  const proc = Bun.spawn(["docker", "ps", "-aq", "--filter", `label=pier.repo=${repoId}`], { stdout: "pipe" });
  return (await new Response(proc.stdout).text()).split("\n").filter(Boolean);
};
const repoWith = async (name: string, settings: Record<string, unknown>) => {
  const repoId = await addRepo(pier, cookie, `file://${makeRemoteRepo(name).path}`, name);
  if (Object.keys(settings).length > 0) expect((await call("PATCH", `/api/repos/${repoId}`, settings)).status).toBe(200);
  return repoId;
};
const podEngine = async (repoId: string) => ((await call("GET", `/api/repos/${repoId}`)).body as { pod: { dockerEngine: string } | null }).pod?.dockerEngine;

beforeAll(async () => {
  image = await ensureBareImage();
  engine = await startSecondEngine();
  pier = await startTestPier({ ...(await dockerTestEnv()), PIER_WORKSPACE_IMAGE: image, PIER_POD_NETWORK: "host" });
  cookie = await setUpAdmin(pier);
  const added = await call("POST", "/api/config/docker-engines", { name: "second", host: engine.host, capacity: 10, labels: ["gpu"] });
  expect(added.status).toBe(201);
  secondId = added.body.id;
}, 300_000);

afterAll(async () => {
  if (pier) await closeForGood(pier).catch(() => undefined);
  await engine?.destroy();
}, 120_000);

describe("pods on several Docker engines", () => {
  test("a repo pinned to the second engine gets its pod there, the image copied from the local engine with progress shown; its terminal runs, and the engine with a pod cannot be removed", async () => {
    expect(await engine.docker("images", "-q", image)).toBe("");
    const repoId = await repoWith("pinned", { dockerEngine: "second" });
    const res = await startSession(pier, cookie, { repoId });
    expect(res.status).toBe(201);
    const id = ((await res.json()) as SessionJson).id;
    // The copy takes seconds: the session's step says so while it goes.
    const steps = new Set<string>();
    for (;;) {
      const session = (await (await pier.fetch(`/api/sessions/${id}`, { headers: { cookie } })).json()) as SessionJson & { step: string | null };
      if (session.step) steps.add(session.step);
      if (session.state !== "provisioning") break;
      await Bun.sleep(50);
    }
    const session = await waitForState(pier, cookie, id, "active");
    expect([...steps].some((step) => step.includes(`Copying ${image} to the Docker engine second`))).toBe(true);
    expect((await engine.docker("images", "-q", image)).trim()).not.toBe("");

    const onSecond = await podsOnSecond(repoId);
    expect(onSecond).toHaveLength(1);
    expect(session.podId?.startsWith(onSecond[0]!)).toBe(true);
    expect(await podsOnLocal(repoId)).toEqual([]);
    expect(await podEngine(repoId)).toBe(secondId);

    const term = await TermClient.connect(pier.url, session.id, { cookie, origin: pier.url });
    await term.run("echo ON-$(hostname)-$((6*7))", /ON-\S+-42/);
    const hostname = (await engine.docker("inspect", "--format", "{{.Config.Hostname}}", onSecond[0]!)).trim();
    expect(term.text).toContain(`ON-${hostname}-42`);
    term.close();

    const listed = (await call("GET", "/api/config/docker-engines")).body as Array<{ name: string; pods: number; state?: string }>;
    expect(listed.find((one) => one.name === "second")).toMatchObject({ pods: 1, state: "ok" });
    const removal = await call("DELETE", "/api/config/docker-engines/second");
    expect(removal.status).toBe(409);
    expect(removal.body.error.code).toBe("engine_has_pods");
  }, 240_000);

  test("a repo asking for a label only the second engine carries gets its pod there", async () => {
    const repoId = await repoWith("labelled", { dockerEngineLabels: ["gpu"] });
    await activeSession(pier, cookie, { repoId });
    expect(await podsOnSecond(repoId)).toHaveLength(1);
    expect(await podEngine(repoId)).toBe(secondId);
  }, 180_000);

  test("with no pin and no label the engine with the most room takes the pod; a draining engine takes none, and a pod stays where it was placed", async () => {
    // The local engine has room for one, the second for eight more: the second wins.
    expect((await call("PATCH", "/api/config/docker-engines/local", { capacity: 1 })).status).toBe(200);
    const roomy = await repoWith("roomy", {});
    await activeSession(pier, cookie, { repoId: roomy });
    expect(await podEngine(roomy)).toBe(secondId);
    expect(await podsOnSecond(roomy)).toHaveLength(1);

    // Draining, the second engine is passed over though it has more room.
    expect((await call("PATCH", "/api/config/docker-engines/second", { draining: true })).status).toBe(200);
    const drained = await repoWith("drained", {});
    await activeSession(pier, cookie, { repoId: drained });
    expect(await podEngine(drained)).toBe("local");
    expect(await podsOnLocal(drained)).toHaveLength(1);
    expect(await podsOnSecond(drained)).toEqual([]);

    // A pod already there stays there: a second session of the roomy repo uses it.
    const again = await activeSession(pier, cookie, { repoId: roomy });
    expect(again.podId?.startsWith((await podsOnSecond(roomy))[0]!)).toBe(true);

    // Only the draining engine carries the label: nothing takes the pod, and the session says why.
    const stranded = await repoWith("stranded", { dockerEngineLabels: ["gpu"] });
    const res = await startSession(pier, cookie, { repoId: stranded });
    const failed = await waitForState(pier, cookie, ((await res.json()) as SessionJson).id, "failed", 60_000);
    expect(failed.error).toContain("No Docker engine carries the labels gpu");
    expect((await call("PATCH", "/api/config/docker-engines/second", { draining: false })).status).toBe(200);
    expect((await call("PATCH", "/api/config/docker-engines/local", { capacity: 10 })).status).toBe(200);
  }, 240_000);
});
