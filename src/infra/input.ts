import { type Static, type TObject, type TSchema, Type } from "@sinclair/typebox";
import { type ValueError, ValueErrorType } from "@sinclair/typebox/errors";
import { Value } from "@sinclair/typebox/value";
import { invalid } from "./errors.ts";

/** A request body (JSON or a form) before it is read: an object, or nothing. */
export type Input = Record<string, unknown>;

export function asInput(body: unknown): Input {
  return body && typeof body === "object" && !Array.isArray(body) ? (body as Input) : {};
}

export function hasControlChars(value: string): boolean {
  return /[\x00-\x1f\x7f]/.test(value);
}

/** JSON Schema's pattern for text without control characters (what hasControlChars refuses). */
export const NO_CONTROL_CHARS = "^[^\\x00-\\x1f\\x7f]*$";

/**
 * Typed input for domain functions: each takes a TypeBox schema's type, and every door (a JSON
 * body, a form, an agent's tool call, an MCP call) reads it with readInput, so the checks live in
 * one place. The schemas are JSON Schema too, for tool definitions and MCP, so every limit is in
 * them: what a client or the model is shown is the rule that is applied. A field's `title` names
 * it in errors, its `error` is the sentence a person gets when the value is missing or of the
 * wrong kind, and its `rule` the sentence when a value of the right kind breaks a limit (a length,
 * a pattern, a count): one for all its limits, or one per limit (by keyword) where a limit left
 * out of it counts as the wrong kind (text that is only spaces, say). `trim`: the spaces around
 * a text are not part of it, so it is trimmed before its limits are checked. Rules that need code
 * (a safe URL, a valid branch, a repo that exists, a size in bytes) stay in the domain function.
 */
export type FieldOptions = {
  error?: string;
  rule?: Rule;
  trim?: boolean;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  description?: string;
};

/** A text field that must be given (an empty one counts as missing). */
export function requiredText(title: string, options: FieldOptions = {}) {
  return Type.String({ title, minLength: 1, error: `${title} is required.`, ...options });
}

/** A text field that may be left out; given, it must be text. */
export function optionalText(title: string, options: FieldOptions = {}) {
  return Type.Optional(Type.String({ title, error: `${title} must be text.`, ...options }));
}

/** The JSON Schema keywords that set a limit, by the error TypeBox reports for breaking them. */
const LIMITS = new Map<ValueErrorType, string>([
  [ValueErrorType.StringMinLength, "minLength"],
  [ValueErrorType.StringMaxLength, "maxLength"],
  [ValueErrorType.StringPattern, "pattern"],
  [ValueErrorType.ArrayMinItems, "minItems"],
  [ValueErrorType.ArrayMaxItems, "maxItems"],
  [ValueErrorType.ObjectMinProperties, "minProperties"],
  [ValueErrorType.ObjectMaxProperties, "maxProperties"],
  [ValueErrorType.NumberMinimum, "minimum"],
  [ValueErrorType.NumberMaximum, "maximum"],
  [ValueErrorType.IntegerMinimum, "minimum"],
  [ValueErrorType.IntegerMaximum, "maximum"],
]);

type Rule = string | Partial<Record<string, string>>;
type Field = TSchema & { title?: string; error?: string; rule?: Rule; trim?: boolean };

/** The sentence for a broken limit: the rule of the part that holds it (an array's item, say), else the field's; none for a wrong kind. */
function ruleFor(field: Field, error: ValueError): string | undefined {
  const keyword = LIMITS.get(error.type);
  if (!keyword) return undefined;
  const rule = (error.schema as Field).rule ?? field.rule;
  return typeof rule === "string" ? rule : rule?.[keyword];
}

/**
 * The sentence for a value its field refuses, or null when it fits: a wrong kind anywhere in it
 * comes first (the field's `error`), then the first broken limit's rule.
 */
export function fieldProblem(field: TSchema, value: unknown, label = (field as Field).title ?? "The value"): string | null {
  const errors: ValueError[] = [...Value.Errors(field, value)];
  if (errors.length === 0) return null;
  const rules = errors.map((error) => ruleFor(field as Field, error));
  if (rules.some((rule) => rule === undefined)) return (field as Field).error ?? `${label} is not valid.`;
  return rules[0]!;
}

/** A text field's value as its schema reads it: trimmed when the field says so. */
function normalized(field: Field, value: unknown): unknown {
  return field.trim && typeof value === "string" ? value.trim() : value;
}

/**
 * One field of a schema's input as the schema reads it, or a 400 naming the field with its own
 * sentence: what readInput does for each field, and what a domain function calls for a value
 * that reached it by another door. Null counts as left out; an empty text counts as missing for
 * a field that must be given and refuses it.
 */
export function readField<S extends TObject, K extends keyof Static<S> & string>(schema: S, name: K, value: unknown): Static<S>[K] {
  const field = schema.properties[name] as Field;
  const required = schema.required?.includes(name) ?? false;
  if (value === undefined || value === null || (required && value === "" && !Value.Check(field, ""))) {
    if (required) throw invalid(name, field.error ?? `${field.title ?? name} is required.`);
    return undefined as Static<S>[K];
  }
  const read = normalized(field, value);
  const problem = fieldProblem(field, read, field.title ?? name);
  if (problem) throw invalid(name, problem);
  return read as Static<S>[K];
}

/**
 * The body as the schema's type, or a 400 naming the first field that breaks its rule, with
 * that field's own sentence. A body that is not an object reads as an empty one; fields the
 * schema does not name are dropped; null counts as left out.
 */
export function readInput<S extends TObject>(schema: S, body: unknown): Static<S> {
  const input = asInput(body);
  const read: Record<string, unknown> = {};
  for (const name of Object.keys(schema.properties)) {
    const value = readField(schema, name as keyof Static<S> & string, input[name]);
    if (value !== undefined) read[name] = value;
  }
  return read as Static<S>;
}

/** The input a tool's schema reads: its text fields trimmed where they say so (see FieldOptions). */
export function normalizedInput(schema: TObject, input: Record<string, unknown>): Record<string, unknown> {
  const read: Record<string, unknown> = { ...input };
  for (const [name, field] of Object.entries(schema.properties) as Array<[string, Field]>) {
    if (name in read) read[name] = normalized(field, read[name]);
  }
  return read;
}

/**
 * When the value's only problems are limits broken by fields that carry a `rule`, the first
 * such field's sentence (what a person sent the same value gets); null otherwise.
 */
export function brokenRule(schema: TObject, value: unknown): string | null {
  const errors = [...Value.Errors(schema, value)];
  const fieldOf = (error: ValueError) => schema.properties[error.path.split("/")[1] ?? ""] as Field | undefined;
  if (errors.length === 0 || errors.some((error) => !fieldOf(error) || ruleFor(fieldOf(error)!, error) === undefined)) return null;
  const name = errors[0]!.path.split("/")[1]!;
  return fieldProblem(schema.properties[name]!, (value as Record<string, unknown>)[name]);
}

/** What a socket says of a frame it cannot read, in its own protocol's words. */
export interface FrameSentences {
  notJson: string;
  /** For JSON that is not an object; left out, such a frame reads as one of no type. */
  notObject?: string;
  unknownType(type: unknown): string;
}

/**
 * A socket's text frame (or the JSON Bun already parsed from one) as the message it holds, read
 * by the schema its `type` names (readMessage), or the sentence saying what is wrong with it.
 */
export function readFrame<M extends Record<string, TObject>>(body: unknown, schemas: M, say: FrameSentences): Static<M[keyof M]> | string {
  let value = body;
  if (typeof body === "string") {
    try {
      value = JSON.parse(body);
    } catch {
      return say.notJson;
    }
  }
  if (say.notObject && (!value || typeof value !== "object")) return say.notObject;
  const message = asInput(value);
  return readMessage(schemas, message) ?? say.unknownType(message.type);
}

/**
 * A socket message (already an object) as the schema of its `type` reads it: the message with
 * just the fields its schema names, the sentence of its first field that breaks its rule, or
 * null when no schema has that type. Unlike a body, a socket message has no null for "left out".
 */
export function readMessage<M extends Record<string, TObject>>(schemas: M, message: Input): Static<M[keyof M]> | string | null {
  const type = message.type;
  if (typeof type !== "string" || !Object.hasOwn(schemas, type)) return null;
  const schema = schemas[type]!;
  const read: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(schema.properties) as Array<[string, Field]>) {
    const value = message[name];
    if (value === undefined) {
      if (schema.required?.includes(name)) return field.error ?? `${field.title ?? name} is required.`;
      continue;
    }
    const problem = fieldProblem(field, value, field.title ?? name);
    if (problem) return problem;
    read[name] = value;
  }
  return read as Static<M[keyof M]>;
}

/** Pier's own keywords on a field (its sentences, its trimming): read by `readField`, never shown. */
const PIER_KEYWORDS = new Set(["error", "rule", "trim"]);
/** Where a schema holds schemas: one, a list, or a map of them (a property may be named `error`). */
const ONE_SCHEMA = new Set(["items", "not", "additionalProperties", "contains", "propertyNames", "if", "then", "else"]);
const SCHEMA_LISTS = new Set(["anyOf", "oneOf", "allOf", "prefixItems"]);
const SCHEMA_MAPS = new Set(["properties", "patternProperties", "$defs", "definitions"]);

/**
 * The schema as plain JSON Schema for a model or an MCP client: the same rules, without Pier's
 * own keywords, which another validator would not know.
 */
export function publicSchema<T>(schema: T): T {
  if (typeof schema !== "object" || schema === null || Array.isArray(schema)) return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (PIER_KEYWORDS.has(key)) continue;
    if (ONE_SCHEMA.has(key)) out[key] = publicSchema(value);
    else if (SCHEMA_LISTS.has(key) && Array.isArray(value)) out[key] = value.map((item) => publicSchema(item));
    else if (SCHEMA_MAPS.has(key) && typeof value === "object" && value !== null) out[key] = Object.fromEntries(Object.entries(value).map(([name, item]) => [name, publicSchema(item)]));
    else out[key] = value;
  }
  return out as T;
}
