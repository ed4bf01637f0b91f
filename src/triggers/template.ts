import { quoted } from "../chat/quoted.ts";
import type { TriggerKind } from "./tables.ts";

/**
 * A trigger's prompt template: the owner's own words, with placeholders for what the firing brings
 * (`{{payload.a.b}}` from a webhook's JSON, `{{issue.title}}`, `{{issue.body}}`, `{{issue.url}}`
 * from a GitHub issue). Someone other than the owner wrote those values, so each goes in as a
 * quoted block (see src/chat/quoted.ts) that names where it came from; nothing in a template is
 * evaluated, a placeholder is only a path looked up in the data.
 */

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;
/** `payload` then dot-separated keys (array indexes are keys too), or one of the issue's fields. */
const PAYLOAD_PATH = /^payload(\.[A-Za-z0-9_-]+)*$/;
const ISSUE_FIELDS = ["title", "body", "url"] as const;

export interface IssueFields {
  number: number;
  title: string;
  body: string;
  url: string;
  /** Who opened it, or who asked in a comment, as GitHub names them. */
  author: string;
}

export interface TemplateData {
  payload?: unknown;
  issue?: IssueFields;
}

/** Why the template does not fit a trigger of this kind (a sentence), or null when it does. */
export function templateProblem(kind: TriggerKind, template: string): string | null {
  for (const [, path] of template.matchAll(PLACEHOLDER)) {
    const name = path!;
    if (kind === "webhook" && PAYLOAD_PATH.test(name)) continue;
    if (kind === "github_issue" && ISSUE_FIELDS.some((field) => name === `issue.${field}`)) continue;
    const allowed =
      kind === "webhook" ? "{{payload}} or {{payload.a.b}}" : kind === "github_issue" ? "{{issue.title}}, {{issue.body}} and {{issue.url}}" : "no placeholders (a schedule brings no data)";
    return `The template's placeholder {{${name}}} is not one this kind of trigger fills: it takes ${allowed}.`;
  }
  return null;
}

/** The template with each placeholder replaced by its value as a quoted block (a missing value is said so). */
export function renderTemplate(template: string, data: TemplateData): string {
  return template.replace(PLACEHOLDER, (_, path: string) => {
    const value = lookUp(data, path);
    if (value === undefined) return `(${path} is missing)`;
    const text = typeof value === "string" ? value : JSON.stringify(value, null, 2);
    const from = path.startsWith("issue.") && data.issue ? `${data.issue.author} (on GitHub)` : "the webhook's caller";
    return quoted({ from, what: path.startsWith("issue.") ? `the GitHub issue's ${path.slice("issue.".length)}` : `the webhook payload's ${path}` }, text);
  });
}

function lookUp(data: TemplateData, path: string): unknown {
  const [root, ...keys] = path.split(".");
  let value: unknown = root === "payload" ? data.payload : root === "issue" ? data.issue : undefined;
  for (const key of keys) {
    // Own keys only: a path never reaches an object's prototype.
    if (value === null || typeof value !== "object" || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}
