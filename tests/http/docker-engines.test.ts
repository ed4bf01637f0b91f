/**
 * The Docker engines through the API (/api/config/docker-engines): the local one always listed and
 * never removable, members read and only admins write, every field checked (a 400 naming it, nothing
 * written), TLS client files sealed at rest and never answered back, a name taken twice a 409, and
 * the admins' acts in the audit log. Repos pin an engine by id or name and ask for labels; an
 * unknown engine is a 400. No engine is asked anything here: the Docker runtime is on only so that
 * engines can be pinned.
 */
import { Database } from "bun:sqlite";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, closeForGood, json, setUpAdmin, signIn, startTestPier } from "../support/pier.ts";
import { addRepo } from "../support/sessions.ts";
import { dockerTestEnv } from "../support/workspace-image.ts";

type Engine = { id: string; name: string; host: string; tls: boolean; capacity: number; labels: string[]; draining: boolean; pods: number };

let pier: TestPier;
let admin: string;
let member: string;

const call = async (method: string, path: string, body?: unknown, who = admin) => {
  const res = await pier.fetch(path, { method, headers: { cookie: who, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, text, body: text ? JSON.parse(text) : null };
};
const list = async (who = admin) => {
  const res = await call("GET", "/api/config/docker-engines", undefined, who);
  expect(res.status).toBe(200);
  return res.body as Engine[];
};
const refusal = async (method: string, path: string, body: unknown, who = admin) => {
  const res = await call(method, path, body, who);
  return { status: res.status, field: res.body?.error?.field as string | undefined, code: res.body?.error?.code as string, message: res.body?.error?.message as string };
};

// A throwaway CA, certificate and key: their shape is what is checked, and that none comes back.
const pem = (kind: string, body: string) => `-----BEGIN ${kind}-----\n${Buffer.from(body).toString("base64")}\n-----END ${kind}-----\n`;
const TLS = { ca: pem("CERTIFICATE", "the engine's CA"), cert: pem("CERTIFICATE", "pier's client certificate"), key: pem("PRIVATE KEY", "pier's very secret client key") };

beforeAll(async () => {
  pier = await startTestPier(await dockerTestEnv());
  admin = await setUpAdmin(pier);
  expect((await pier.fetch("/api/users", json({ username: "mia", password: "member password 1", role: "member" }, { cookie: admin }))).status).toBe(201);
  member = await signIn(pier, "mia", "member password 1");
}, 120_000);

afterAll(async () => {
  if (pier) await closeForGood(pier);
}, 60_000);

describe("Docker engines through the API", () => {
  test("the local engine is listed with nothing done, members read the list and cannot write it", async () => {
    const engines = await list(member);
    expect(engines).toHaveLength(1);
    expect(engines[0]).toMatchObject({ id: "local", name: "local", tls: false, capacity: 10, labels: [], draining: false, pods: 0 });
    expect((await refusal("POST", "/api/config/docker-engines", { name: "build-1", host: "unix:///run/other.sock" }, member)).status).toBe(403);
    expect((await refusal("PATCH", "/api/config/docker-engines/local", { draining: true }, member)).status).toBe(403);
    expect((await refusal("DELETE", "/api/config/docker-engines/local", undefined, member)).status).toBe(403);
    expect(await list()).toHaveLength(1);
  });

  test("bad input is a 400 naming the field, and nothing is written", async () => {
    const cases: Array<[unknown, string]> = [
      [{ host: "unix:///run/a.sock" }, "name"],
      [{ name: "Build Box", host: "unix:///run/a.sock" }, "name"],
      [{ name: "a" }, "host"],
      [{ name: "a", host: "http://box:2375" }, "host"],
      [{ name: "a", host: "unix://relative.sock" }, "host"],
      [{ name: "a", host: "tcp://box:2375/path" }, "host"],
      // Plain tcp off the loopback would hand the engine to the network.
      [{ name: "a", host: "tcp://10.1.2.3:2375" }, "tls"],
      [{ name: "a", host: "tcp://box.example:2376", tls: { ca: TLS.ca, cert: TLS.cert } }, "tls"],
      [{ name: "a", host: "tcp://box.example:2376", tls: { ...TLS, key: "not a pem" } }, "tls"],
      [{ name: "a", host: "ssh://me@box.example", tls: TLS }, "tls"],
      [{ name: "a", host: "unix:///run/a.sock", capacity: 0 }, "capacity"],
      [{ name: "a", host: "unix:///run/a.sock", capacity: 1.5 }, "capacity"],
      [{ name: "a", host: "unix:///run/a.sock", labels: ["GPU"] }, "labels"],
      [{ name: "a", host: "unix:///run/a.sock", labels: "gpu" }, "labels"],
      [{ name: "a", host: "unix:///run/a.sock", draining: "yes" }, "draining"],
    ];
    for (const [body, field] of cases) {
      const res = await refusal("POST", "/api/config/docker-engines", body);
      expect({ body, status: res.status, field: res.field }).toEqual({ body, status: 400, field });
      expect(res.message.length).toBeGreaterThan(10);
    }
    expect(await list()).toHaveLength(1);
  });

  test("an engine is added, changed and removed by id or name; its TLS files are sealed and never answered back; each act is audited", async () => {
    const added = await call("POST", "/api/config/docker-engines", { name: "build-1", host: "tcp://box.example:2376", tls: TLS, capacity: 4, labels: ["gpu"] });
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({ name: "build-1", host: "tcp://box.example:2376", tls: true, capacity: 4, labels: ["gpu"], draining: false, pods: 0 });
    expect(added.text).not.toContain("BEGIN");
    const id = (added.body as Engine).id;
    // Plain tcp to the loopback is taken.
    expect((await call("POST", "/api/config/docker-engines", { name: "loop", host: "tcp://127.0.0.1:2375" })).status).toBe(201);

    const listed = await call("GET", "/api/config/docker-engines", undefined, member);
    expect(listed.body.map((engine: Engine) => engine.name)).toEqual(["local", "build-1", "loop"]);
    expect(listed.text).not.toContain("BEGIN");
    expect(listed.text).not.toContain(Buffer.from("pier's very secret client key").toString("base64"));

    // Sealed at rest: the database holds none of the key's text.
    const db = new Database(join(pier.dataDir, "pier.db"), { readonly: true });
    const stored = db.query("SELECT tls FROM docker_engines WHERE id = ?").get(id) as { tls: string };
    db.close();
    expect(stored.tls.startsWith("v1.")).toBe(true);
    expect(stored.tls).not.toContain("BEGIN");

    const changed = await call("PATCH", "/api/config/docker-engines/build-1", { draining: true, capacity: 6 });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ id, name: "build-1", tls: true, capacity: 6, draining: true, labels: ["gpu"] });
    // A bad change changes nothing.
    expect((await refusal("PATCH", `/api/config/docker-engines/${id}`, { host: "tcp://box.example:2375", tls: false })).field).toBe("tls");
    expect((await call("GET", `/api/config/docker-engines/${id}`)).body).toMatchObject({ host: "tcp://box.example:2376", tls: true, capacity: 6 });

    const renamed = await call("PATCH", `/api/config/docker-engines/${id}`, { name: "build-2", host: "unix:///run/build.sock", tls: false });
    expect(renamed.body).toMatchObject({ id, name: "build-2", host: "unix:///run/build.sock", tls: false });

    expect((await call("DELETE", "/api/config/docker-engines/build-2")).status).toBe(204);
    expect((await call("DELETE", "/api/config/docker-engines/loop")).status).toBe(204);
    expect((await list()).map((engine) => engine.name)).toEqual(["local"]);
    expect((await call("GET", `/api/config/docker-engines/${id}`)).status).toBe(404);

    const audit = async (action: string) => ((await call("GET", `/api/audit?action=${action}`)).body as { entries?: unknown[] } | unknown[]);
    const entries = async (action: string) => {
      const got = await audit(action);
      return (Array.isArray(got) ? got : got.entries ?? []) as Array<{ target: { name: string } }>;
    };
    expect((await entries("docker_engine_added")).map((entry) => entry.target.name).sort()).toEqual(["build-1", "loop"]);
    expect((await entries("docker_engine_changed")).length).toBe(2);
    expect((await entries("docker_engine_removed")).map((entry) => entry.target.name).sort()).toEqual(["build-2", "loop"]);
    expect(JSON.stringify(await audit("docker_engine_added"))).not.toContain("BEGIN");
  });

  test("a name taken is a 409, local among them; the local engine can be drained but not renamed, moved or removed", async () => {
    expect((await call("POST", "/api/config/docker-engines", { name: "twin", host: "unix:///run/a.sock" })).status).toBe(201);
    const twice = await refusal("POST", "/api/config/docker-engines", { name: "twin", host: "unix:///run/b.sock" });
    expect(twice).toMatchObject({ status: 409, code: "engine_name_taken", field: "name" });
    expect((await refusal("POST", "/api/config/docker-engines", { name: "local", host: "unix:///run/b.sock" })).status).toBe(409);
    expect((await refusal("PATCH", "/api/config/docker-engines/twin", { name: "local" })).status).toBe(409);
    expect((await call("DELETE", "/api/config/docker-engines/twin")).status).toBe(204);

    expect((await refusal("DELETE", "/api/config/docker-engines/local", undefined)).status).toBe(409);
    expect((await refusal("PATCH", "/api/config/docker-engines/local", { host: "unix:///run/b.sock" })).field).toBe("host");
    expect((await refusal("PATCH", "/api/config/docker-engines/local", { name: "home" })).field).toBe("name");
    const drained = await call("PATCH", "/api/config/docker-engines/local", { draining: true, labels: ["x86"] });
    expect(drained.body).toMatchObject({ id: "local", name: "local", draining: true, labels: ["x86"] });
    expect((await list())[0]).toMatchObject({ id: "local", draining: true });
    expect((await call("PATCH", "/api/config/docker-engines/local", { draining: false, labels: [] })).status).toBe(200);
  });

  test("a repo pins an engine by id or name and asks for labels; an unknown engine is a 400 and changes nothing; a pinned engine cannot be removed", async () => {
    const repoId = await addRepo(pier, admin, `file://${makeRemoteRepo("pinning").path}`, "pinning");
    const engine = (await call("POST", "/api/config/docker-engines", { name: "pin-me", host: "unix:///run/pin.sock" })).body as Engine;
    const patch = (body: unknown) => call("PATCH", `/api/repos/${repoId}`, body);

    const unknown = await patch({ dockerEngine: "nowhere", dockerEngineLabels: ["gpu"] });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.field).toBe("dockerEngine");
    expect((await patch({ dockerEngineLabels: ["Not A Label"] })).body.error.field).toBe("dockerEngineLabels");
    expect((await call("GET", `/api/repos/${repoId}`)).body).toMatchObject({ dockerEngine: null, dockerEngineLabels: [] });

    expect((await patch({ dockerEngine: "pin-me", dockerEngineLabels: ["gpu", "gpu", "arm64"] })).status).toBe(200);
    expect((await call("GET", `/api/repos/${repoId}`)).body).toMatchObject({ dockerEngine: engine.id, dockerEngineLabels: ["gpu", "arm64"] });
    const pinned = await refusal("DELETE", "/api/config/docker-engines/pin-me", undefined);
    expect(pinned).toMatchObject({ status: 409, code: "engine_pinned" });
    expect(pinned.message).toContain("pinning");

    expect((await patch({ dockerEngine: "" })).status).toBe(200);
    expect((await call("GET", `/api/repos/${repoId}`)).body).toMatchObject({ dockerEngine: null });
    expect((await call("DELETE", "/api/config/docker-engines/pin-me")).status).toBe(204);
  });
});
