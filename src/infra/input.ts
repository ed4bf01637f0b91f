import { invalid } from "./errors.ts";

/** Request bodies arrive as unknown JSON or form data; these read one field each, or say what is wrong. */
export type Input = Record<string, unknown>;

export function asInput(body: unknown): Input {
  return body && typeof body === "object" && !Array.isArray(body) ? (body as Input) : {};
}

export function requiredString(input: Input, field: string, label = field): string {
  const value = input[field];
  if (typeof value !== "string" || value === "") throw invalid(field, `${label} is required.`);
  return value;
}

/** undefined when absent or an empty form field; a string otherwise. */
export function optionalString(input: Input, field: string, label = field): string | undefined {
  const value = input[field];
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value !== "string") throw invalid(field, `${label} must be text.`);
  return value;
}

export function hasControlChars(value: string): boolean {
  return /[\x00-\x1f\x7f]/.test(value);
}
