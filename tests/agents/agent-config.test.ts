/**
 * The agents the ACP engine runs, through the API: the ones Pier ships are there with nothing done,
 * members read and only admins write, every field is checked (a 400 naming it, nothing written),
 * and a package and version are asked of the real npm registry (the one outside service this
 * machine reaches), so an unknown one is a 400 naming the field with the registry's answer. Shipped
 * agents can be edited, removed and brought back. The registry's documents are kept in the shared
 * tools directory, so a run asks it only for what it has never answered (and for what it lacks).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { SHIPPED_AGENTS } from "../../src/agents/shipped.ts";
import { type TestPier, closeForGood, json, setUpAdmin, signIn, startTestPier } from "../support/pier.ts";

type Agent = {
  id: string;
  name: string;
  package: string | null;
  version: string | null;
  program: string | null;
  command: string | null;
  args: string[];
  service: string;
  shipped: boolean;
  edited: boolean;
};

let pier: TestPier;
let admin: string;
let member: string;

const call = async (method: string, path: string, body?: unknown, who = admin) => {
  const res = await pier.fetch(path, { method, headers: { cookie: who, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, text, body: text ? JSON.parse(text) : null };
};
const list = async (who = admin) => {
  const res = await call("GET", "/api/config/agents", undefined, who);
  expect(res.status).toBe(200);
  return res.body as Agent[];
};
/** A refusal: its status, and the field and code its error names. */
const refusal = async (method: string, path: string, body: unknown) => {
  const res = await call(method, path, body);
  return { status: res.status, field: res.body?.error?.field as string | undefined, code: res.body?.error?.code as string, message: res.body?.error?.message as string };
};

beforeAll(async () => {
  pier = await startTestPier();
  admin = await setUpAdmin(pier);
  expect((await pier.fetch("/api/users", json({ username: "mia", password: "member password 1", role: "member" }, { cookie: admin }))).status).toBe(201);
  member = await signIn(pier, "mia", "member password 1");
}, 60_000);

afterAll(async () => {
  if (pier) await closeForGood(pier);
}, 60_000);

describe("agents through the API", () => {
  test("the shipped agents are there with nothing done, pinned, and members read them", async () => {
    const agents = await list(member);
    expect(agents.map((agent) => agent.id)).toEqual(["opencode", "claude-code", "gemini", "codex"]);
    const opencode = agents[0]!;
    expect(opencode).toEqual({
      id: "opencode",
      name: "opencode",
      package: "opencode-ai",
      version: "1.18.32",
      program: "opencode",
      command: null,
      args: ["acp"],
      service: "anthropic",
      shipped: true,
      edited: false,
    });
    expect(agents.find((agent) => agent.id === "gemini")?.args).toEqual(["--acp"]);
    expect(agents.map((agent) => agent.service)).toEqual(["anthropic", "anthropic", "gemini", "openai"]);
    for (const agent of agents) expect(agent.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect((await call("GET", "/api/config/agents/codex", undefined, member)).body.package).toBe("@zed-industries/codex-acp");
    expect((await call("GET", "/api/config/agents/nobody", undefined, member)).status).toBe(404);
    expect((await pier.fetch("/api/config/agents")).status).toBe(401);
  });

  test("members may not add, change or remove an agent, and nothing changes", async () => {
    const before = await list();
    expect((await call("POST", "/api/config/agents", { id: "mine", name: "Mine", command: "mine", service: "none" }, member)).status).toBe(403);
    expect((await call("PATCH", "/api/config/agents/opencode", { args: ["serve"] }, member)).status).toBe(403);
    expect((await call("DELETE", "/api/config/agents/opencode", undefined, member)).status).toBe(403);
    expect(await list()).toEqual(before);
  });

  test("every bad field is a 400 naming it, and nothing is written", async () => {
    const before = await list();
    const good = { id: "checked", name: "Checked", command: "my-agent", args: ["--acp"], service: "none" };
    const refused: Array<[Record<string, unknown>, string]> = [
      [{ ...good, id: undefined }, "id"],
      [{ ...good, id: "" }, "id"],
      [{ ...good, id: "My Agent" }, "id"],
      [{ ...good, id: "../x" }, "id"],
      [{ ...good, id: "-lead" }, "id"],
      [{ ...good, id: "a".repeat(41) }, "id"],
      [{ ...good, id: 7 }, "id"],
      [{ ...good, name: undefined }, "name"],
      [{ ...good, name: "   " }, "name"],
      [{ ...good, name: "two\nlines" }, "name"],
      [{ ...good, name: "n".repeat(81) }, "name"],
      [{ ...good, command: "my agent" }, "command"],
      [{ ...good, command: "" }, "command"],
      [{ ...good, command: "a\u0000b" }, "command"],
      [{ ...good, command: ["my-agent"] }, "command"],
      [{ ...good, command: undefined }, "package"],
      [{ ...good, package: "opencode-ai", version: "1.18.32" }, "command"],
      [{ ...good, command: undefined, package: "Opencode-AI", version: "1.18.32" }, "package"],
      [{ ...good, command: undefined, package: "../../etc", version: "1.18.32" }, "package"],
      [{ ...good, command: undefined, package: "opencode-ai" }, "version"],
      [{ ...good, command: undefined, package: "opencode-ai", version: "latest" }, "version"],
      [{ ...good, command: undefined, package: "opencode-ai", version: "^1.18.0" }, "version"],
      [{ ...good, command: undefined, package: "opencode-ai", version: "1.18" }, "version"],
      [{ ...good, version: "1.0.0" }, "version"],
      [{ ...good, args: "--acp" }, "args"],
      [{ ...good, args: [1] }, "args"],
      [{ ...good, args: ["two\nlines"] }, "args"],
      [{ ...good, args: Array.from({ length: 101 }, () => "x") }, "args"],
      [{ ...good, service: undefined }, "service"],
      [{ ...good, service: "claude" }, "service"],
      [{ ...good, service: 1 }, "service"],
    ];
    for (const [body, field] of refused) {
      const said = await refusal("POST", "/api/config/agents", body);
      expect({ body, status: said.status, field: said.field }).toEqual({ body, status: 400, field });
      expect(said.code).toBe(`invalid_${field}`);
      expect(said.message.length).toBeGreaterThan(10);
    }
    for (const [body, field] of [
      [{ command: "a b" }, "command"],
      [{ name: "" }, "name"],
      [{ service: "other" }, "service"],
      [{ package: "x", command: "y" }, "command"],
      [{ version: "latest" }, "version"],
      [{ package: "opencode-ai", version: "1.18" }, "version"],
    ] as const) {
      const said = await refusal("PATCH", "/api/config/agents/opencode", body);
      expect({ body, status: said.status, field: said.field }).toEqual({ body, status: 400, field });
    }
    expect(await list()).toEqual(before);
  });

  test("a package or version the npm registry does not have is a 400 naming the field, with what the registry said", async () => {
    const before = await list();
    const base = { id: "unknown", name: "Unknown", service: "none" };
    const noPackage = await refusal("POST", "/api/config/agents", { ...base, package: "pier-test-no-such-package-3f9c1e7a", version: "1.0.0" });
    expect(noPackage).toEqual({ status: 400, field: "package", code: "invalid_package", message: "The npm registry has no package named pier-test-no-such-package-3f9c1e7a." });
    const noVersion = await refusal("POST", "/api/config/agents", { ...base, package: "opencode-ai", version: "0.0.1" });
    expect(noVersion).toEqual({ status: 400, field: "version", code: "invalid_version", message: "The npm registry has opencode-ai, but not version 0.0.1 of it." });
    // A PATCH is checked the same way, and leaves the agent as it was.
    const patched = await refusal("PATCH", "/api/config/agents/opencode", { version: "0.0.1" });
    expect(patched.field).toBe("version");
    // A package with no program, and one with several none of which is named as the package.
    const noProgram = await refusal("POST", "/api/config/agents", { ...base, package: "opencode-linux-x64", version: "1.18.32" });
    expect(noProgram).toMatchObject({ status: 400, field: "package" });
    expect(noProgram.message).toContain("installs no program");
    const several = await refusal("POST", "/api/config/agents", { ...base, package: "typescript", version: "5.9.3" });
    expect(several).toMatchObject({ status: 400, field: "package" });
    expect(several.message).toContain("installs several programs (tsc, tsserver)");
    expect(await list()).toEqual(before);
  }, 60_000);

  test("an admin adds a package agent (its program learned from the registry) and a command agent, changes and removes them", async () => {
    const added = await call("POST", "/api/config/agents", { id: "my-opencode", name: "My opencode", package: "opencode-ai", version: "1.18.32", args: ["acp", "--print-logs"], service: "anthropic", shipped: true });
    expect(added.status, added.text).toBe(201);
    expect(added.body).toEqual({
      id: "my-opencode",
      name: "My opencode",
      package: "opencode-ai",
      version: "1.18.32",
      program: "opencode",
      command: null,
      args: ["acp", "--print-logs"],
      service: "anthropic",
      shipped: false,
      edited: false,
    });
    expect((await call("POST", "/api/config/agents", { id: "my-opencode", name: "Again", command: "x", service: "none" })).status).toBe(409);
    expect((await call("POST", "/api/config/agents", { id: "opencode", name: "Again", command: "x", service: "none" })).status).toBe(409);

    const local = await call("POST", "/api/config/agents", { id: "local-agent", name: "A local agent", command: "/opt/agent/bin/agent", service: "none" });
    expect(local.status, local.text).toBe(201);
    expect(local.body).toMatchObject({ package: null, version: null, program: null, command: "/opt/agent/bin/agent", args: [] });

    // A command replaces the package (and version), and a package the command.
    const toCommand = await call("PATCH", "/api/config/agents/my-opencode", { command: "opencode" });
    expect(toCommand.body).toMatchObject({ package: null, version: null, program: null, command: "opencode", args: ["acp", "--print-logs"] });
    const toPackage = await call("PATCH", "/api/config/agents/local-agent", { package: "opencode-ai", version: "1.18.32", service: "anthropic" });
    expect(toPackage.body).toMatchObject({ package: "opencode-ai", version: "1.18.32", program: "opencode", command: null, service: "anthropic" });

    const ids = (await list(member)).map((agent) => agent.id);
    expect(ids).toEqual(["opencode", "claude-code", "gemini", "codex", "local-agent", "my-opencode"]);
    expect((await call("DELETE", "/api/config/agents/my-opencode")).status).toBe(204);
    expect((await call("DELETE", "/api/config/agents/local-agent")).status).toBe(204);
    expect((await call("DELETE", "/api/config/agents/local-agent")).status).toBe(404);
    expect((await list()).map((agent) => agent.id)).toEqual(["opencode", "claude-code", "gemini", "codex"]);
    const audited = await call("GET", "/api/audit?action=agent_added");
    expect((audited.body as Array<{ target: { id: string } }>).map((entry) => entry.target.id)).toEqual(["local-agent", "my-opencode"]);
  }, 60_000);

  test("a shipped agent is edited, removed and brought back; changed back to Pier's definition it is Pier's again", async () => {
    const edited = await call("PATCH", "/api/config/agents/gemini", { args: ["--experimental-acp"], name: "Gemini" });
    expect(edited.body).toMatchObject({ id: "gemini", name: "Gemini", args: ["--experimental-acp"], shipped: true, edited: true });
    const gemini = SHIPPED_AGENTS.find((agent) => agent.id === "gemini")!;
    const back = await call("PATCH", "/api/config/agents/gemini", { args: gemini.args, name: gemini.name });
    expect(back.body).toMatchObject({ args: ["--acp"], name: "Gemini CLI", shipped: true, edited: false });

    expect((await call("DELETE", "/api/config/agents/codex")).status).toBe(204);
    expect((await list()).map((agent) => agent.id)).toEqual(["opencode", "claude-code", "gemini"]);
    expect((await call("GET", "/api/config/agents/codex")).status).toBe(404);
    expect((await call("PATCH", "/api/config/agents/codex", { name: "x" })).status).toBe(404);
    // Its id again brings it back; what is left out is Pier's own definition.
    const restored = await call("POST", "/api/config/agents", { id: "codex" });
    expect(restored.status, restored.text).toBe(201);
    expect(restored.body).toEqual({ ...SHIPPED_AGENTS.find((agent) => agent.id === "codex"), shipped: true, edited: false });
    expect((await list()).map((agent) => agent.id)).toEqual(["opencode", "claude-code", "gemini", "codex"]);
  });
});

describe("agents when the npm registry cannot be reached", () => {
  let offline: TestPier;
  let cookie: string;

  beforeAll(async () => {
    offline = await startTestPier({ PIER_NPM_REGISTRY: "http://127.0.0.1:9" });
    cookie = await setUpAdmin(offline);
  }, 60_000);

  afterAll(async () => {
    if (offline) await closeForGood(offline);
  }, 60_000);

  test("a package agent cannot be saved (a 502 that says so), a command agent can", async () => {
    const res = await offline.fetch("/api/config/agents", json({ id: "later", name: "Later", package: "opencode-ai", version: "1.18.33", service: "anthropic" }, { cookie }));
    expect(res.status).toBe(502);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("registry_unreachable");
    expect(body.error.message).toStartWith("Pier could not ask the npm registry about opencode-ai 1.18.33: ");
    const command = await offline.fetch("/api/config/agents", json({ id: "later", name: "Later", command: "later", service: "none" }, { cookie }));
    expect(command.status).toBe(201);
  });
});
