import { type Static, type TObject, type TSchema, Type } from "@sinclair/typebox";
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

/**
 * Typed input for domain functions: each takes a TypeBox schema's type, and every door (a JSON
 * body, a form, an agent's tool call, an MCP call) reads it with readInput, so the checks live in
 * one place. The schemas are JSON Schema too, for tool definitions and MCP. A field's `title`
 * names it in errors and its `error` is the sentence a person gets when the value breaks its rule;
 * rules that need code (a safe URL, a valid branch) stay in the domain function.
 */
type FieldOptions = { error?: string; maxLength?: number; pattern?: string; description?: string };

/** A text field that must be given (an empty one counts as missing). */
export function requiredText(title: string, options: FieldOptions = {}) {
  return Type.String({ title, minLength: 1, error: `${title} is required.`, ...options });
}

/** A text field that may be left out; given, it must be text. */
export function optionalText(title: string, options: FieldOptions = {}) {
  return Type.Optional(Type.String({ title, error: `${title} must be text.`, ...options }));
}

/**
 * The body as the schema's type, or a 400 naming the first field that breaks its rule, with
 * that field's own sentence. A body that is not an object reads as an empty one; fields the
 * schema does not name are dropped; null counts as left out.
 */
export function readInput<S extends TObject>(schema: S, body: unknown): Static<S> {
  const input = asInput(body);
  const read: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(schema.properties) as Array<[string, TSchema & { title?: string; error?: string }]>) {
    const value = input[name];
    const label = field.title ?? name;
    if (value === undefined || value === null) {
      if (schema.required?.includes(name)) throw invalid(name, field.error ?? `${label} is required.`);
      continue;
    }
    if (!Value.Check(field, value)) throw invalid(name, field.error ?? `${label} is not valid.`);
    read[name] = value;
  }
  return read as Static<S>;
}
