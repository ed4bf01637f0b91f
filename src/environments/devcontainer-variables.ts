import type { RefusedKey } from "./environment.ts";

/** A value as a JSON (or JSONC) document holds it. */
export type Json = null | boolean | number | string | Json[] | JsonObject;
export interface JsonObject {
  [key: string]: Json;
}

/**
 * Where a session's workspace is in its pod, for `${containerWorkspaceFolder}` and its kin. A pod
 * mounts its person's workspace at the same absolute path as the server keeps it, so the "local"
 * spellings mean the same folder: that path is the pod's own, never anything else of the server's.
 */
export interface WorkspaceVariables {
  workspaceFolder: string;
  workspaceFolderBasename: string;
}

/** Nesting past this is no configuration anyone writes, and would only make the walk below deep. */
const MAX_DEPTH = 64;

/** The spec's (and its reference implementation's) variable syntax: `${type:arg:…}`, shortest match. */
const VARIABLE = /\$\{(.*?)\}/g;

/**
 * The document with the spec's variables put in its string values (never its keys, as the
 * reference implementation does), as new objects without a prototype, so a key like "__proto__"
 * is a key like any other.
 *
 * `${localEnv:X}` (and its older spelling `${env:X}`) is the environment of the machine that reads
 * the file: here, Pier's server, whose environment holds its secrets. It is never looked up: it
 * becomes its default (`${localEnv:X:default}`) or nothing, and the key it was in is listed in
 * `refused`. `${containerEnv:X}` is left as written for the pod to resolve, as is
 * `${devcontainerId}` and anything unknown. Without `vars`, the workspace folder variables are left
 * as written too.
 *
 * `invalid` makes the error for a string holding a NUL (no command or variable can carry one) or
 * a document nested too deep, given the key it is under.
 */
export function substituteVariables(value: Json, vars: WorkspaceVariables | undefined, refused: RefusedKey[], invalid: (sentence: string) => Error): Json {
  const walk = (node: Json, key: string, depth: number): Json => {
    if (depth > MAX_DEPTH) throw invalid(`${key || "the file"} is nested more than ${MAX_DEPTH} levels deep.`);
    if (typeof node === "string") return substituteString(node, key);
    if (Array.isArray(node)) return node.map((item) => walk(item, key, depth + 1));
    if (node !== null && typeof node === "object") {
      const copy: JsonObject = Object.create(null);
      for (const [name, item] of Object.entries(node)) {
        if (name.includes("\0")) throw invalid(`${key || "the file"} has a key holding a NUL character.`);
        copy[name] = walk(item, key ? `${key}.${name}` : name, depth + 1);
      }
      return copy;
    }
    return node;
  };

  const substituteString = (text: string, key: string): string => {
    if (text.includes("\0")) throw invalid(`${key} holds a NUL character.`);
    return text.replace(VARIABLE, (match, variable: string) => {
      const [type, ...args] = variable.split(":");
      switch (type) {
        case "localEnv":
        case "env": {
          // As the reference implementation: the default is the part after the second colon.
          const fallback = args[1];
          const instead = fallback === undefined ? "it was left empty" : "its default was used";
          note(refused, { key, reason: `${shorten(match)} refers to the server's environment, which a repository never sees; ${instead}.` });
          return fallback ?? "";
        }
        case "localWorkspaceFolder":
        case "containerWorkspaceFolder":
          return vars?.workspaceFolder ?? match;
        case "localWorkspaceFolderBasename":
        case "containerWorkspaceFolderBasename":
          return vars?.workspaceFolderBasename ?? match;
        default:
          return match;
      }
    });
  };

  return walk(value, "", 0);
}

/** Adds a refused key once, however often the same thing is found under it. */
export function note(refused: RefusedKey[], entry: RefusedKey): void {
  if (!refused.some((known) => known.key === entry.key && known.reason === entry.reason)) refused.push(entry);
}

/** A repository's text in a sentence: at most 80 characters of it. */
function shorten(text: string): string {
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}

/** A repository's text quoted in a sentence, with JSON's escapes, so a newline or a quote in it shows as one. */
export function quoted(text: string): string {
  return JSON.stringify(shorten(text));
}
