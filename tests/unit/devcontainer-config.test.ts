import { afterEach, expect, test } from "bun:test";
import { DEFAULT_WAIT_FOR, MAX_CONFIG_BYTES, parseDevcontainer } from "../../src/environments/devcontainer-config.ts";
import { AppError } from "../../src/infra/errors.ts";

const PATH = ".devcontainer/devcontainer.json";

/** The sentence parseDevcontainer throws for `text` (failing the test when it throws nothing or something else). */
function problem(text: string, configPath = PATH): string {
  try {
    parseDevcontainer(text, configPath);
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe("devcontainer_invalid");
    expect((error as AppError).status).toBe(400);
    return (error as Error).message;
  }
  throw new Error(`no error for ${text}`);
}

const refusedKeys = (text: string) => parseDevcontainer(text, PATH).refused.map((entry) => entry.key);

afterEach(() => {
  delete process.env.PIER_TEST_SERVER_SECRET;
});

test("JSON with comments and trailing commas is read, and a file that names nothing gets Pier's defaults", () => {
  const config = parseDevcontainer(
    `// The team's environment
{
  /* the image */ "image": "node:20", // trailing comment
  "containerEnv": { "A": "1", },
  "forwardPorts": [3000,],
}
`,
    PATH,
  );
  expect(config.image).toBe("node:20");
  expect(config.containerEnv).toEqual({ A: "1" });
  expect(config.ports).toEqual([{ port: 3000, label: null, app: false }]);

  expect(parseDevcontainer("{}", ".devcontainer.json")).toEqual({
    configPath: ".devcontainer.json",
    image: null,
    build: null,
    features: [],
    containerEnv: {},
    remoteEnv: {},
    remoteUser: null,
    containerUser: null,
    lifecycle: {},
    waitFor: "postCreateCommand",
    ports: [],
    hostRequirements: { cpus: null, memoryMb: null },
    refused: [],
  });
  expect(DEFAULT_WAIT_FOR).toBe("postCreateCommand");
});

test("a malformed file is one sentence naming the file, the line and the column of the first problem", () => {
  expect(problem('{\n  "image": "node:20",\n  // fine so far\n  "forwardPorts": [3000]\n  "remoteUser": "node"\n}')).toBe(
    ".devcontainer/devcontainer.json line 5, column 3: a comma was expected.",
  );
  expect(problem('{\n  "image": "node:20",\n\n\n\n\n  ,\n}')).toBe(".devcontainer/devcontainer.json line 7, column 3: a property name was expected.");
  expect(problem('{\r\n  "a": 1,\r\n  "b": "not closed\r\n}')).toStartWith(".devcontainer/devcontainer.json line 3, column 8: a string is not closed");
  expect(problem('{ "a": 1 } /* comment never closed')).toBe(".devcontainer/devcontainer.json line 1, column 12: a comment is not closed.");
  expect(problem("", ".devcontainer.json")).toBe(".devcontainer.json line 1, column 1: a value was expected.");
  expect(problem('["image"]')).toBe(".devcontainer/devcontainer.json: the file must hold one JSON object.");
  expect(problem(`{"containerEnv": ${"[".repeat(100)}${"]".repeat(100)}}`)).toBe(".devcontainer/devcontainer.json: containerEnv is nested more than 64 levels deep.");
  expect(problem(`{"containerEnv": ${"[".repeat(100_000)}${"]".repeat(100_000)}}`)).toStartWith(".devcontainer/devcontainer.json: ");
});

test("a value of the wrong type is a sentence naming its key", () => {
  expect(problem('{"image": 20}')).toBe(".devcontainer/devcontainer.json: image must be a string.");
  expect(problem('{"image": "Not An Image!"}')).toContain("is not a Docker image reference");
  expect(problem('{"forwardPorts": 3000}')).toBe(".devcontainer/devcontainer.json: forwardPorts must be a list of ports.");
  expect(problem('{"forwardPorts": [70000]}')).toContain('forwardPorts has "70000", which is not a port');
  expect(problem('{"forwardPorts": [true]}')).toContain("forwardPorts has");
  expect(problem('{"containerEnv": {"A": 1}}')).toBe(".devcontainer/devcontainer.json: containerEnv.A must be a string.");
  expect(problem('{"containerEnv": {"A=B": "1"}}')).toContain('containerEnv has "A=B", which is not a variable name');
  expect(problem('{"remoteUser": "-u root"}')).toContain('remoteUser "-u root" is not a user name');
  expect(problem('{"waitFor": "whenever"}')).toContain("waitFor must be one of onCreateCommand, updateContentCommand, postCreateCommand, postStartCommand, postAttachCommand.");
  expect(problem('{"postCreateCommand": 5}')).toContain("postCreateCommand must be a command");
  expect(problem('{"postCreateCommand": {"install": [1]}}')).toContain("postCreateCommand.install must be a command");
  expect(problem('{"build": "Dockerfile"}')).toContain("build must be an object");
  expect(problem('{"build": {"context": "."}}')).toContain("build.dockerfile must name the Dockerfile.");
  expect(problem('{"features": ["node"]}')).toContain("features must be an object");
  expect(problem('{"hostRequirements": {"cpus": 1.5}}')).toContain("hostRequirements.cpus must be a whole number");
  expect(problem('{"hostRequirements": {"memory": 4096}}')).toContain("hostRequirements.memory must be an amount");
  expect(problem('{"hostRequirements": {"memory": "lots"}}')).toContain("hostRequirements.memory must be an amount");
  expect(problem('{"portsAttributes": {"3000": {"label": 3}}}')).toContain("portsAttributes.3000.label must be a string.");
  expect(problem('{"postStartCommand": "echo \\u0000"}')).toContain("postStartCommand holds a NUL character.");
});

test("the limits: a file over 256 KiB, too many features, variables or ports", () => {
  expect(problem(`{"name": "${"x".repeat(MAX_CONFIG_BYTES)}"}`)).toContain("a devcontainer.json may have at most 256 KiB");
  const many = (count: number, entry: (i: number) => string) => Array.from({ length: count }, (_, i) => entry(i)).join(",");
  expect(problem(`{"features": {${many(101, (i) => `"./f${i}": {}`)}}}`)).toContain("features has 101 entries; at most 100");
  expect(problem(`{"containerEnv": {${many(201, (i) => `"V${i}": "x"`)}}}`)).toContain("containerEnv has 201 entries; at most 200");
  expect(problem(`{"forwardPorts": [${many(101, (i) => String(1000 + i))}]}`)).toContain("forwardPorts has 101 entries; at most 100");
  expect(parseDevcontainer(`{"features": {${many(100, (i) => `"./f${i}": {}`)}}}`, PATH).features).toHaveLength(100);
});

test("each key that would widen a pod is refused with a sentence, and the rest of the file still applies", () => {
  const config = parseDevcontainer(
    JSON.stringify({
      image: "node:20",
      mounts: ["source=/,target=/host,type=bind"],
      runArgs: ["--network=host"],
      privileged: true,
      capAdd: ["SYS_ADMIN"],
      securityOpt: ["seccomp=unconfined"],
      init: false,
      appPort: [3000],
      workspaceMount: "source=/etc,target=/workspace,type=bind",
      workspaceFolder: "/workspace",
      dockerComposeFile: "compose.yml",
      service: "app",
      remoteUser: "node",
      containerEnv: { KEPT: "yes" },
      name: "ignored",
      customizations: { vscode: { extensions: ["x"] } },
      shutdownAction: "none",
      overrideCommand: false,
      userEnvProbe: "loginInteractiveShell",
      updateRemoteUserUID: false,
      someFutureKey: { anything: true },
    }),
    PATH,
  );
  expect(config.refused.map((entry) => entry.key)).toEqual([
    "mounts",
    "runArgs",
    "privileged",
    "capAdd",
    "securityOpt",
    "init",
    "appPort",
    "workspaceMount",
    "workspaceFolder",
    "dockerComposeFile",
  ]);
  for (const { reason } of config.refused) expect(reason).toMatch(/^[A-Z].*\.$/);
  expect(config.refused.find((entry) => entry.key === "dockerComposeFile")!.reason).toBe(
    "Docker Compose environments are not supported: Pier makes one container per person and repo.",
  );
  expect(config.image).toBe("node:20");
  expect(config.remoteUser).toBe("node");
  expect(config.containerEnv).toEqual({ KEPT: "yes" });

  // Keys that ask for nothing are not refused: the pod is as it would be anyway.
  expect(refusedKeys('{"privileged": false, "init": true, "mounts": [], "runArgs": [], "capAdd": []}')).toEqual([]);
  expect(refusedKeys('{"build": {"dockerfile": "Dockerfile", "options": ["--network=host"]}}')).toEqual(["build.options"]);
});

test("the three forms of a lifecycle command: a string for a shell, an array run as it is, an object run in parallel", () => {
  const config = parseDevcontainer(
    `{
      "onCreateCommand": "make setup && echo done",
      "updateContentCommand": ["npm", "ci"],
      "postCreateCommand": { "server": "npm run build", "docs": ["mkdocs", "build"], "nothing": "" },
      "postStartCommand": "",
      "postAttachCommand": { "greet": "echo hi" },
      "waitFor": "onCreateCommand"
    }`,
    PATH,
  );
  expect(config.lifecycle).toEqual({
    onCreateCommand: { commands: [{ name: null, command: { shell: "make setup && echo done" } }] },
    updateContentCommand: { commands: [{ name: null, command: { argv: ["npm", "ci"] } }] },
    postCreateCommand: {
      commands: [
        { name: "server", command: { shell: "npm run build" } },
        { name: "docs", command: { argv: ["mkdocs", "build"] } },
      ],
    },
    postAttachCommand: { commands: [{ name: "greet", command: { shell: "echo hi" } }] },
  });
  expect(config.waitFor).toBe("onCreateCommand");
});

test("build paths are resolved from the file's folder to the repository's root, and one leaving the repository is refused", () => {
  const build = (text: string, configPath = PATH) => parseDevcontainer(text, configPath).build;
  expect(build('{"build": {"dockerfile": "Dockerfile", "args": {"NODE": "20"}, "target": "dev"}}')).toEqual({
    dockerfile: ".devcontainer/Dockerfile",
    context: ".devcontainer",
    args: { NODE: "20" },
    target: "dev",
  });
  expect(build('{"build": {"dockerfile": "../docker/Dockerfile", "context": ".."}}')).toEqual({ dockerfile: "docker/Dockerfile", context: "", args: {}, target: null });
  expect(build('{"build": {"dockerfile": "Dockerfile", "context": "../.."}}', ".devcontainer/python/devcontainer.json")!.context).toBe("");
  expect(build('{"build": {"dockerfile": "Dockerfile"}}', ".devcontainer.json")).toEqual({ dockerfile: "Dockerfile", context: "", args: {}, target: null });
  // The older spellings, and a build that wins over an image.
  expect(build('{"image": "node:20", "dockerFile": "Dockerfile", "context": "./app"}')).toEqual({ dockerfile: ".devcontainer/Dockerfile", context: ".devcontainer/app", args: {}, target: null });
  expect(parseDevcontainer('{"image": "node:20", "dockerFile": "Dockerfile"}', PATH).image).toBeNull();

  expect(problem('{"build": {"dockerfile": "Dockerfile", "context": "../.."}}')).toBe(".devcontainer/devcontainer.json: build.context points outside the repository.");
  expect(problem('{"build": {"dockerfile": "../../etc/Dockerfile"}}')).toBe(".devcontainer/devcontainer.json: build.dockerfile points outside the repository.");
  expect(problem('{"build": {"dockerfile": "/etc/Dockerfile"}}')).toContain("build.dockerfile must be a path relative to the file's folder");
  expect(problem('{"build": {"dockerfile": "Dockerfile", "context": "/"}}')).toContain("build.context must be a path relative");
  expect(problem('{"dockerFile": "x/../../.."}')).toContain("dockerFile points outside the repository.");
  expect(problem('{"build": {"dockerfile": "sub/"}}')).toContain("build.dockerfile must name a file");
});

test("a local feature becomes its folder from the repository's root; a registry's keeps its id; an odd or escaping one is refused", () => {
  const config = parseDevcontainer(
    `{
      "features": {
        "./tools": {},
        "../shared-features/lint": { "strict": true, "level": 3 },
        "ghcr.io/devcontainers/features/node:1": "20",
        "ghcr.io/devcontainers/features/python@sha256:${"a".repeat(64)}": true,
        "localhost:5000/team/feature": { "flavour": "mild" },
        "https://example.com/releases/devcontainer-feature-go.tgz": {},
        "ghcr.io/devcontainers/features/docker-in-docker:2": false
      }
    }`,
    PATH,
  );
  expect(config.features).toEqual([
    { id: ".devcontainer/tools", local: true, options: {} },
    { id: "shared-features/lint", local: true, options: { strict: true, level: "3" } },
    { id: "ghcr.io/devcontainers/features/node:1", local: false, options: { version: "20" } },
    { id: `ghcr.io/devcontainers/features/python@sha256:${"a".repeat(64)}`, local: false, options: {} },
    { id: "localhost:5000/team/feature", local: false, options: { flavour: "mild" } },
    { id: "https://example.com/releases/devcontainer-feature-go.tgz", local: false, options: {} },
  ]);
  expect(parseDevcontainer('{"features": {"./tools": {}}}', ".devcontainer.json").features[0]!.id).toBe("tools");

  expect(problem('{"features": {"../../outside": {}}}')).toBe('.devcontainer/devcontainer.json: feature "../../outside" points outside the repository.');
  expect(problem('{"features": {"./a/../../..": {}}}')).toContain('feature "./a/../../.." points outside the repository.');
  expect(problem('{"features": {"./..": {}}}', ".devcontainer.json")).toContain('feature "./.." points outside the repository.');
  expect(problem('{"features": {"./my tools": {}}}')).toContain('feature "./my tools" is not a folder of the repository');
  expect(problem('{"features": {"node": {}}}')).toContain('feature "node" is not a folder of the repository');
  expect(problem('{"features": {"ghcr.io/x/y;rm -rf": {}}}')).toContain('feature "ghcr.io/x/y;rm -rf" is not');
  expect(problem('{"features": {"file:///etc/passwd": {}}}')).toContain("is not a folder of the repository");
  expect(problem('{"features": {"./tools": ["a"]}}')).toContain('feature "./tools" must have an object of options');
  expect(problem('{"features": {"./tools": {"opt": {"deep": 1}}}}')).toContain(`feature "./tools"'s option "opt" must be`);
});

test("hostRequirements' memory in any unit becomes MiB, its cpus a number", () => {
  const memory = (value: string) => parseDevcontainer(`{"hostRequirements": {"memory": "${value}"}}`, PATH).hostRequirements.memoryMb;
  expect(memory("4gb")).toBe(4096);
  expect(memory("8GB")).toBe(8192);
  expect(memory("512mb")).toBe(512);
  expect(memory("1.5gb")).toBe(1536);
  expect(memory("1tb")).toBe(1024 * 1024);
  expect(memory("2048kb")).toBe(2);
  expect(memory("1073741824")).toBe(1024);
  expect(problem('{"hostRequirements": {"memory": "0gb"}}')).toContain("hostRequirements.memory must be an amount");
  expect(parseDevcontainer('{"hostRequirements": {"cpus": 4, "storage": "32gb"}}', PATH).hostRequirements).toEqual({ cpus: 4, memoryMb: null });
});

test("forwarded ports take portsAttributes' labels (a port's own entry over a range) and say which is the app", () => {
  const config = parseDevcontainer(
    JSON.stringify({
      forwardPorts: [3000, "localhost:5173", "127.0.0.1:8080", "db:5432", 3001, 3000, "9229"],
      portsAttributes: {
        "3000-3005": { label: "Services" },
        "3001": { label: "API", onAutoForward: "silent" },
        "5173": { label: "Web", onAutoForward: "openPreview" },
        "8080": { elevateIfNeeded: true },
        "9229": { label: "Debugger", onAutoForward: "openBrowser" },
        "node.*": { label: "a process, not a port" },
      },
    }),
    PATH,
  );
  expect(config.ports).toEqual([
    { port: 3000, label: "Services", app: false },
    { port: 5173, label: "Web", app: true },
    { port: 8080, label: null, app: true },
    { port: 3001, label: "API", app: false },
    { port: 9229, label: "Debugger", app: true },
  ]);
  expect(config.refused).toEqual([{ key: "forwardPorts", reason: "\"db:5432\" is a port of another host; Pier shows only the pod's own ports." }]);
});

test("${localEnv:…} is never taken from the server's environment: its default or nothing, and the key is listed as refused", () => {
  process.env.PIER_TEST_SERVER_SECRET = "server-secret-value";
  const text = JSON.stringify({
    image: "node:20",
    containerEnv: { TOKEN: "${localEnv:PIER_TEST_SERVER_SECRET}", WITH_DEFAULT: "x-${localEnv:PIER_TEST_SERVER_SECRET:fallback}-y", HOME_TOO: "${env:HOME}" },
    build: { dockerfile: "Dockerfile", args: { SECRET: "${localEnv:PIER_TEST_SERVER_SECRET}" } },
    postCreateCommand: ["echo", "${localEnv:PIER_TEST_SERVER_SECRET}"],
    features: { "./tools": { token: "${localEnv:PIER_TEST_SERVER_SECRET}" } },
    customizations: { vscode: { settings: { "terminal.integrated.cwd": "${localEnv:HOME}" } } },
  });
  const config = parseDevcontainer(text, PATH);
  expect(JSON.stringify(config)).not.toContain("server-secret-value");
  expect(JSON.stringify(config)).not.toContain(process.env.HOME!);
  expect(config.containerEnv).toEqual({ TOKEN: "", WITH_DEFAULT: "x-fallback-y", HOME_TOO: "" });
  expect(config.build!.args).toEqual({ SECRET: "" });
  expect(config.lifecycle.postCreateCommand).toEqual({ commands: [{ name: null, command: { argv: ["echo", ""] } }] });
  expect(config.refused.map((entry) => entry.key)).toEqual([
    "containerEnv.TOKEN",
    "containerEnv.WITH_DEFAULT",
    "containerEnv.HOME_TOO",
    "build.args.SECRET",
    "postCreateCommand",
    "features../tools.token",
  ]);
  expect(config.refused[0]!.reason).toBe("${localEnv:PIER_TEST_SERVER_SECRET} refers to the server's environment, which a repository never sees; it was left empty.");
  expect(config.refused[1]!.reason).toContain("its default was used");
});

test("workspace variables come from the pod's paths when given, and ${containerEnv:…} and the rest are left for the pod", () => {
  const text = JSON.stringify({
    image: "node:20",
    remoteEnv: { PATH: "${containerEnv:PATH}:${containerWorkspaceFolder}/bin", NAME: "${localWorkspaceFolderBasename}", ID: "${devcontainerId}", UNSET: null },
    postAttachCommand: "cd ${containerWorkspaceFolder} && echo ${HOME} ${localWorkspaceFolder}",
  });
  const given = parseDevcontainer(text, PATH, { workspaceFolder: "/data/workspaces/r1/u1/widgets", workspaceFolderBasename: "widgets" });
  expect(given.remoteEnv).toEqual({ PATH: "${containerEnv:PATH}:/data/workspaces/r1/u1/widgets/bin", NAME: "widgets", ID: "${devcontainerId}" });
  expect(given.lifecycle.postAttachCommand!.commands[0]!.command).toEqual({ shell: "cd /data/workspaces/r1/u1/widgets && echo ${HOME} /data/workspaces/r1/u1/widgets" });
  expect(given.refused).toEqual([]);

  const left = parseDevcontainer(text, PATH);
  expect(left.remoteEnv.PATH).toBe("${containerEnv:PATH}:${containerWorkspaceFolder}/bin");
  expect(left.remoteEnv.NAME).toBe("${localWorkspaceFolderBasename}");
  expect(left.lifecycle.postAttachCommand!.commands[0]!.command).toEqual({ shell: "cd ${containerWorkspaceFolder} && echo ${HOME} ${localWorkspaceFolder}" });
});

test('a key named "__proto__" is an ordinary key: it cannot give the configuration fields it does not write', () => {
  const config = parseDevcontainer('{"__proto__": {"image": "evil:1", "privileged": true, "build": {"dockerfile": "/etc/x"}}}', PATH);
  expect(config.image).toBeNull();
  expect(config.build).toBeNull();
  expect(config.refused).toEqual([]);
});
