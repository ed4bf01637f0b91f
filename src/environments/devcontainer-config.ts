import { posix } from "node:path";
import { type ParseError, parse, printParseErrorCode, visit } from "jsonc-parser";
import { IMAGE_REF } from "../infra/config.ts";
import { AppError } from "../infra/errors.ts";
import { type Json, type JsonObject, type WorkspaceVariables, note, quoted, substituteVariables } from "./devcontainer-variables.ts";
import {
  type DevcontainerConfig,
  type EnvironmentPort,
  LIFECYCLE_STEPS,
  type LifecycleCommand,
  type LifecycleName,
  type LifecycleStep,
  type RefusedKey,
} from "./environment.ts";

/** The largest devcontainer.json Pier reads: far above any real one, small enough to hold at once. */
export const MAX_CONFIG_BYTES = 256 * 1024;
const MAX_FEATURES = 100;
/** Entries of each of containerEnv, remoteEnv and build.args. */
const MAX_ENV_ENTRIES = 200;
const MAX_PORTS = 100;
const MAX_LABEL = 100;

/**
 * The step a session waits for when the file names none. The spec's default is
 * updateContentCommand, but postCreateCommand is where repositories install their toolchain
 * (`npm ci`, `pip install`): an agent started before it ends would find none of it and fail.
 */
export const DEFAULT_WAIT_FOR: LifecycleName = "postCreateCommand";

/** A variable's name, as containerEnv, remoteEnv and build.args may use it. */
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** A user in the image: a name or a uid, with an optional group, as Docker's `--user` takes it. */
const USER = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,31})?$/;
/** A feature from an OCI registry: registry host, path, and an optional tag or digest. */
const OCI_FEATURE = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d{1,5})?(\/[a-z0-9]+([._-]+[a-z0-9]+)*)+(:[A-Za-z0-9_][A-Za-z0-9._-]{0,127}|@sha256:[0-9a-f]{64})?$/;
/** A feature published as a tarball at an https address. */
const TARBALL_FEATURE = /^https:\/\/[A-Za-z0-9.-]+(:\d{1,5})?(\/[A-Za-z0-9._~%+-]+)+$/;
/** A feature in the repository: a folder next to the file (or above it), by plain names. */
const LOCAL_FEATURE = /^\.\.?(\/[A-Za-z0-9._-]+)+\/?$/;
/** portsAttributes' keys Pier can apply: a port, or a range of them (process-name patterns match no listed port). */
const PORT_KEY = /^(\d{1,5})(?:-(\d{1,5}))?$/;
/** What portsAttributes' onAutoForward says when the port is the app to open. */
const OPENS_APP = ["openPreview", "openBrowser", "openBrowserOnce"];
/** hostRequirements.memory: a number of bytes, or of kb, mb, gb or tb (any case), as the spec writes "4gb". */
const MEMORY = /^(\d{1,12}(?:\.\d{1,6})?)\s*([kmgt]?b)?$/i;
const UNIT_BYTES: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3, tb: 1024 ** 4 };

/** The keys Pier applies; the rest of the file is ignored, or refused below. */
const APPLIED_KEYS = new Set<string>([
  "image",
  "build",
  "dockerFile",
  "context",
  "features",
  "containerEnv",
  "remoteEnv",
  "remoteUser",
  "containerUser",
  ...LIFECYCLE_STEPS,
  "waitFor",
  "forwardPorts",
  "portsAttributes",
  "hostRequirements",
]);

/** Keys that would widen a pod past what the admin allows, with why, each refused when it asks for something. */
const REFUSED_KEYS: Array<{ key: string; asks: (value: Json) => boolean; reason: string }> = [
  { key: "mounts", asks: nonEmpty, reason: "Pods mount only the person's workspace, the repo's mirror and Pier's services; a repository cannot add mounts." },
  { key: "runArgs", asks: nonEmpty, reason: "A repository cannot pass its own options to Docker (host networking among them): pods run with the limits and network the admin sets." },
  { key: "privileged", asks: (value) => value === true, reason: "Pods are never privileged." },
  { key: "capAdd", asks: nonEmpty, reason: "Pods get no capabilities beyond Docker's defaults." },
  { key: "securityOpt", asks: nonEmpty, reason: "Pods keep the security options the admin sets." },
  { key: "init", asks: (value) => value === false, reason: "Pods always run an init process, which reaps what sessions leave behind." },
  { key: "appPort", asks: nonEmpty, reason: "A repository cannot publish ports on the server; the ports in forwardPorts are shown as a preview instead." },
  { key: "workspaceMount", asks: nonEmpty, reason: "Pods mount the person's workspace where Pier keeps it." },
  { key: "workspaceFolder", asks: nonEmpty, reason: "Sessions work in their own worktrees, at the paths Pier keeps them." },
  { key: "dockerComposeFile", asks: nonEmpty, reason: "Docker Compose environments are not supported: Pier makes one container per person and repo." },
];

/**
 * A devcontainer.json's text as Pier applies it (see DevcontainerConfig): a JSONC parser (comments
 * and trailing commas, as VS Code reads the file), then each key Pier supports checked, each key
 * that would widen a pod listed in `refused` with why while the rest still applies, and keys Pier
 * has no use for ignored as VS Code ignores them (`name`, `customizations`, `shutdownAction`,
 * `overrideCommand`, `userEnvProbe`, and `updateRemoteUserUID`: Pier always runs the remote user as
 * its pod user). Variables are put in as substituteVariables says: never from the server's
 * environment.
 *
 * `configPath` is where the file is in the repository; the paths it names (Dockerfile, build
 * context, local features) are resolved from its folder to paths from the repository's root, and
 * one that leaves the repository makes the whole file invalid. A file Pier cannot apply throws an
 * AppError `devcontainer_invalid` whose sentence names the file and the line, or the key, at fault.
 */
export function parseDevcontainer(text: string, configPath: string, vars?: WorkspaceVariables): DevcontainerConfig {
  const invalid = (sentence: string) => new AppError(400, "devcontainer_invalid", `${configPath}: ${sentence}`);
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes > MAX_CONFIG_BYTES) throw invalid(`the file has ${Math.ceil(bytes / 1024)} KiB; a devcontainer.json may have at most ${MAX_CONFIG_BYTES / 1024} KiB.`);
  const parsed = parseJsonc(text, configPath, invalid);
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw invalid("the file must hold one JSON object.");

  const refused: RefusedKey[] = [];
  for (const { key, asks, reason } of REFUSED_KEYS) if (Object.hasOwn(parsed, key) && asks(parsed[key]!)) note(refused, { key, reason });
  // Variables are put only in what Pier applies: one in customizations or another ignored key is said nowhere.
  const applied = Object.fromEntries(Object.entries(parsed).filter(([key]) => APPLIED_KEYS.has(key)));
  const file = substituteVariables(applied, vars, refused, invalid) as JsonObject;
  const read = new Reader(invalid, posix.dirname(configPath));
  const build = read.build(file, refused);
  const forwarded = read.forwardPorts(file.forwardPorts, refused);
  const lifecycle: DevcontainerConfig["lifecycle"] = {};
  for (const name of LIFECYCLE_STEPS) {
    const step = read.lifecycleStep(file[name], name);
    if (step) lifecycle[name] = step;
  }
  return {
    configPath,
    image: build ? null : read.image(file.image),
    build,
    features: read.features(file.features),
    containerEnv: read.variables(file.containerEnv, "containerEnv"),
    remoteEnv: read.variables(file.remoteEnv, "remoteEnv"),
    remoteUser: read.user(file.remoteUser, "remoteUser"),
    containerUser: read.user(file.containerUser, "containerUser"),
    lifecycle,
    waitFor: read.waitFor(file.waitFor),
    ports: read.ports(forwarded, file.portsAttributes),
    hostRequirements: read.hostRequirements(file.hostRequirements),
    refused,
  };
}

/** The parsed document, or the first problem as a sentence naming its line and column. */
function parseJsonc(text: string, configPath: string, invalid: (sentence: string) => AppError): Json {
  const options = { allowTrailingComma: true, disallowComments: false };
  const errors: ParseError[] = [];
  let value: Json;
  try {
    value = parse(text, errors, options);
  } catch (error) {
    // The parser descends once per level of nesting: tens of thousands of brackets exhaust the stack.
    if (error instanceof RangeError) throw invalid("the file is nested too deeply to read.");
    throw error;
  }
  if (!errors.length) return value;
  // The parser's own line counting (\n, \r\n and \r) for the first problem, which parse() gives only as an offset.
  let where: { line: number; column: number; problem: string } | null = null;
  visit(
    text,
    {
      onError: (code, _offset, _length, line, column) => {
        where ??= { line: line + 1, column: column + 1, problem: PARSE_PROBLEMS[printParseErrorCode(code)] ?? "the text is not JSON" };
      },
    },
    options,
  );
  const { line, column, problem } = where ?? { line: 1, column: 1, problem: "the text is not JSON" };
  throw new AppError(400, "devcontainer_invalid", `${configPath} line ${line}, column ${column}: ${problem}.`);
}

/** jsonc-parser's error names, as the sentence a person reads. */
const PARSE_PROBLEMS: Record<string, string> = {
  InvalidSymbol: "an unexpected character was found",
  InvalidNumberFormat: "a number is malformed",
  PropertyNameExpected: "a property name was expected",
  ValueExpected: "a value was expected",
  ColonExpected: "a colon was expected",
  CommaExpected: "a comma was expected",
  CloseBraceExpected: "a closing brace was expected",
  CloseBracketExpected: "a closing bracket was expected",
  EndOfFileExpected: "the file should end here",
  InvalidCommentToken: "a comment is malformed",
  UnexpectedEndOfComment: "a comment is not closed",
  UnexpectedEndOfString: "a string is not closed",
  UnexpectedEndOfNumber: "a number is cut short",
  InvalidUnicode: "a \\u escape is malformed",
  InvalidEscapeCharacter: "an escape sequence is malformed",
  InvalidCharacter: "a string holds a control character",
};

/** An array or an object with something in it, a string with text, or a boolean or number: a key present and asking for something. */
function nonEmpty(value: Json): boolean {
  if (value === null) return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === "object") return Object.keys(value).length > 0;
  if (typeof value === "string") return value.trim() !== "";
  return true;
}

function isObject(value: Json | undefined): value is JsonObject {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** The readers of each key, sharing the file's error and the folder its paths are relative to. */
class Reader {
  constructor(
    private invalid: (sentence: string) => AppError,
    /** The folder holding the file, from the repository's root ("." for the root). */
    private configDir: string,
  ) {}

  image(value: Json | undefined): string | null {
    const image = this.text(value, "image");
    if (image !== null && !IMAGE_REF.test(image)) throw this.invalid(`image ${quoted(image)} is not a Docker image reference such as node:20 or ghcr.io/org/image:tag.`);
    return image;
  }

  /** build.*, or the older top-level `dockerFile` and `context`; null when the file builds nothing. */
  build(file: JsonObject, refused: RefusedKey[]): DevcontainerConfig["build"] {
    if (file.build !== undefined && file.build !== null && !isObject(file.build)) throw this.invalid("build must be an object (dockerfile, context, args, target).");
    const build = isObject(file.build) ? file.build : null;
    const dockerfile = this.text(build?.dockerfile, "build.dockerfile") ?? this.text(file.dockerFile, "dockerFile");
    const dockerfileKey = build && (build.dockerfile !== undefined || file.dockerFile === undefined) ? "build.dockerfile" : "dockerFile";
    if (dockerfile === null || !dockerfile.trim()) {
      if (build || dockerfile !== null) throw this.invalid(`${dockerfileKey} must name the Dockerfile.`);
      return null;
    }
    const context = this.text(build?.context, "build.context") ?? this.text(file.context, "context") ?? ".";
    const contextKey = build?.context !== undefined ? "build.context" : "context";
    if (build && nonEmpty(build.options ?? null)) {
      note(refused, { key: "build.options", reason: "A repository cannot pass its own options to docker build: its Dockerfile builds with no host mounts, no secrets and the pod's network." });
    }
    const path = this.inRepository(dockerfile, dockerfileKey);
    if (path === "" || dockerfile.endsWith("/")) throw this.invalid(`${dockerfileKey} must name a file, not a folder.`);
    return {
      dockerfile: path,
      context: this.inRepository(context, contextKey),
      args: this.variables(build?.args, "build.args"),
      target: this.text(build?.target, "build.target"),
    };
  }

  features(value: Json | undefined): DevcontainerConfig["features"] {
    if (value === undefined || value === null) return [];
    if (!isObject(value)) throw this.invalid("features must be an object of feature ids and their options.");
    const entries = Object.entries(value);
    if (entries.length > MAX_FEATURES) throw this.invalid(`features has ${entries.length} entries; at most ${MAX_FEATURES} are read.`);
    const features: DevcontainerConfig["features"] = [];
    for (const [id, given] of entries) {
      // `false` turns a feature off, as an empty options object would not.
      if (given === false) continue;
      const options = this.featureOptions(id, given);
      if (LOCAL_FEATURE.test(id)) {
        const folder = this.inRepository(id, `feature ${quoted(id)}`);
        if (folder === "") throw this.invalid(`feature ${quoted(id)} must name a folder, not the repository's root.`);
        features.push({ id: folder, local: true, options });
      } else if (OCI_FEATURE.test(id) || TARBALL_FEATURE.test(id)) {
        features.push({ id, local: false, options });
      } else {
        throw this.invalid(`feature ${quoted(id)} is not a folder of the repository ("./name"), a registry reference ("ghcr.io/devcontainers/features/node:1") or an https address.`);
      }
    }
    return features;
  }

  /** A feature's options: an object of them, a version string (`"node": "20"`), or `true` for its defaults. */
  private featureOptions(id: string, given: Json): Record<string, string | boolean> {
    if (given === true) return {};
    if (typeof given === "string") return { version: given };
    if (!isObject(given)) throw this.invalid(`feature ${quoted(id)} must have an object of options, a version string, or true.`);
    return Object.fromEntries(
      Object.entries(given).map(([name, option]) => {
        if (typeof option === "number") return [name, String(option)];
        if (typeof option === "string" || typeof option === "boolean") return [name, option];
        throw this.invalid(`feature ${quoted(id)}'s option ${quoted(name)} must be a string, a number or true/false.`);
      }),
    );
  }

  /** An object of variables and their string values; remoteEnv's null (unset it) leaves one out. */
  variables(value: Json | undefined, key: string): Record<string, string> {
    if (value === undefined || value === null) return {};
    if (!isObject(value)) throw this.invalid(`${key} must be an object of names and their values.`);
    const entries = Object.entries(value);
    if (entries.length > MAX_ENV_ENTRIES) throw this.invalid(`${key} has ${entries.length} entries; at most ${MAX_ENV_ENTRIES} are read.`);
    const variables: Array<[string, string]> = [];
    for (const [name, given] of entries) {
      if (!VARIABLE_NAME.test(name)) throw this.invalid(`${key} has ${quoted(name)}, which is not a variable name (letters, digits and _, not starting with a digit).`);
      if (given === null && key === "remoteEnv") continue;
      if (typeof given !== "string") throw this.invalid(`${key}.${name} must be a string.`);
      variables.push([name, given]);
    }
    return Object.fromEntries(variables);
  }

  user(value: Json | undefined, key: string): string | null {
    const user = this.text(value, key);
    if (user !== null && !USER.test(user)) throw this.invalid(`${key} ${quoted(user)} is not a user name or uid (optionally with :group).`);
    return user;
  }

  /** A lifecycle command in the spec's three forms; null when it is absent or runs nothing. */
  lifecycleStep(value: Json | undefined, key: LifecycleName): LifecycleStep | null {
    if (value === undefined || value === null) return null;
    const commands: LifecycleStep["commands"] = [];
    if (isObject(value)) {
      for (const [name, given] of Object.entries(value)) {
        const command = given === null ? null : this.command(given, `${key}.${name}`);
        if (command) commands.push({ name, command });
      }
    } else {
      const command = this.command(value, key);
      if (command) commands.push({ name: null, command });
    }
    return commands.length ? { commands } : null;
  }

  private command(value: Json, key: string): LifecycleCommand | null {
    if (typeof value === "string") return value.trim() ? { shell: value } : null;
    if (Array.isArray(value) && value.every((word) => typeof word === "string")) return value.length ? { argv: value as string[] } : null;
    throw this.invalid(`${key} must be a command: a string, an array of strings, or an object of them run in parallel.`);
  }

  waitFor(value: Json | undefined): LifecycleName {
    if (value === undefined || value === null) return DEFAULT_WAIT_FOR;
    if (typeof value !== "string" || !(LIFECYCLE_STEPS as readonly string[]).includes(value)) throw this.invalid(`waitFor must be one of ${LIFECYCLE_STEPS.join(", ")}.`);
    return value as LifecycleName;
  }

  /** forwardPorts' ports of the pod itself; one of another host ("db:5432") is refused. */
  forwardPorts(value: Json | undefined, refused: RefusedKey[]): number[] {
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) throw this.invalid("forwardPorts must be a list of ports.");
    if (value.length > MAX_PORTS) throw this.invalid(`forwardPorts has ${value.length} entries; at most ${MAX_PORTS} are read.`);
    const ports: number[] = [];
    for (const entry of value) {
      const hostAndPort = typeof entry === "string" ? /^(?:([^:\s]+):)?(\d{1,5})$/.exec(entry) : null;
      const port = typeof entry === "number" ? entry : hostAndPort ? Number(hostAndPort[2]) : NaN;
      if (!isPort(port)) throw this.invalid(`forwardPorts has ${quoted(String(entry))}, which is not a port (1 to 65535) or "localhost:port".`);
      const host = hostAndPort?.[1];
      if (host !== undefined && host !== "localhost" && host !== "127.0.0.1") {
        note(refused, { key: "forwardPorts", reason: `${quoted(String(entry))} is a port of another host; Pier shows only the pod's own ports.` });
      } else if (!ports.includes(port)) {
        ports.push(port);
      }
    }
    return ports;
  }

  /** The forwarded ports with portsAttributes' label and app mark: a port's own entry first, else the first range holding it. */
  ports(forwarded: number[], value: Json | undefined): EnvironmentPort[] {
    if (value !== undefined && value !== null && !isObject(value)) throw this.invalid("portsAttributes must be an object of ports and their attributes.");
    const rules: Array<{ from: number; to: number; label: string | null; app: boolean }> = [];
    for (const [key, attributes] of Object.entries(value ?? {})) {
      const match = PORT_KEY.exec(key);
      if (!match) continue;
      const from = Number(match[1]);
      const to = match[2] === undefined ? from : Number(match[2]);
      if (!isObject(attributes)) throw this.invalid(`portsAttributes.${key} must be an object.`);
      const label = this.text(attributes.label, `portsAttributes.${key}.label`);
      if (label !== null && label.length > MAX_LABEL) throw this.invalid(`portsAttributes.${key}.label must be at most ${MAX_LABEL} characters.`);
      const opens = this.text(attributes.onAutoForward, `portsAttributes.${key}.onAutoForward`);
      const elevate = attributes.elevateIfNeeded;
      if (elevate !== undefined && elevate !== null && typeof elevate !== "boolean") throw this.invalid(`portsAttributes.${key}.elevateIfNeeded must be true or false.`);
      rules.push({ from, to, label, app: OPENS_APP.includes(opens ?? "") || elevate === true });
    }
    return forwarded.map((port) => {
      const rule = rules.find((r) => r.from === port && r.to === port) ?? rules.find((r) => r.from <= port && port <= r.to);
      return { port, label: rule?.label ?? null, app: rule?.app ?? false };
    });
  }

  hostRequirements(value: Json | undefined): DevcontainerConfig["hostRequirements"] {
    if (value === undefined || value === null) return { cpus: null, memoryMb: null };
    if (!isObject(value)) throw this.invalid("hostRequirements must be an object (cpus, memory).");
    const { cpus, memory } = value;
    if (cpus !== undefined && cpus !== null && !(typeof cpus === "number" && Number.isInteger(cpus) && cpus >= 1)) {
      throw this.invalid("hostRequirements.cpus must be a whole number of CPUs, 1 or more.");
    }
    let memoryMb: number | null = null;
    if (memory !== undefined && memory !== null) {
      const match = typeof memory === "string" ? MEMORY.exec(memory.trim()) : null;
      memoryMb = match ? Math.ceil((Number(match[1]) * UNIT_BYTES[(match[2] ?? "b").toLowerCase()]!) / 1024 ** 2) : 0;
      if (memoryMb < 1) throw this.invalid(`hostRequirements.memory must be an amount such as "4gb" or "512mb".`);
    }
    return { cpus: typeof cpus === "number" ? cpus : null, memoryMb };
  }

  private text(value: Json | undefined, key: string): string | null {
    if (value === undefined || value === null) return null;
    if (typeof value !== "string") throw this.invalid(`${key} must be a string.`);
    return value;
  }

  /**
   * A path the file names, relative to its folder, as a POSIX path from the repository's root
   * ("" for the root itself); one that is absolute or climbs out of the repository is refused.
   */
  private inRepository(path: string, key: string): string {
    if (path.startsWith("/")) throw this.invalid(`${key} must be a path relative to the file's folder, not an absolute one.`);
    const resolved = posix.normalize(posix.join(this.configDir, path)).replace(/\/+$/, "");
    if (resolved === ".." || resolved.startsWith("../")) throw this.invalid(`${key} points outside the repository.`);
    return resolved === "." ? "" : resolved;
  }
}

function isPort(port: number): boolean {
  return Number.isInteger(port) && port >= 1 && port <= 65535;
}
