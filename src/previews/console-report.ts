import { type Static, Type } from "@sinclair/typebox";
import { quoted } from "../chat/quoted.ts";
import { MAX_ERROR_CHARS, MAX_ERRORS } from "./console-script.ts";

/** The longest page address a report carries, as the pane's URL bar takes. */
export const MAX_REPORT_URL_CHARS = 2048;

/**
 * POST /api/sessions/:id/preview-report: what the preview pane saw, for "Send to chat": the port,
 * the page's address and the console errors the page logged (the console script's words, which
 * are the app's: whatever they say, they reach the agent only as quoted data).
 */
export const PreviewReportInput = Type.Object({
  port: Type.Integer({ title: "Port", minimum: 1, maximum: 65535, error: "port must be the preview's port, a whole number.", rule: "port must be from 1 to 65535." }),
  url: Type.String({
    title: "URL",
    minLength: 1,
    maxLength: MAX_REPORT_URL_CHARS,
    error: "url must be the address the preview shows.",
    rule: `url must be 1 to ${MAX_REPORT_URL_CHARS} characters.`,
  }),
  errors: Type.Array(
    Type.String({ maxLength: MAX_ERROR_CHARS, error: "Each error must be text.", rule: `Each error must be at most ${MAX_ERROR_CHARS} characters.` }),
    { title: "Errors", maxItems: MAX_ERRORS, error: "errors must be a list of the console's error lines.", rule: `errors may hold at most ${MAX_ERRORS} lines.` },
  ),
});
export type PreviewReportInput = Static<typeof PreviewReportInput>;

/**
 * The person's message for a preview report: their own sentence of what it is, and what the
 * page said (its address and its errors) in one quoted block attributed to the app, so the agent
 * reads the app's words as data about the work, never as orders.
 */
export function previewReportMessage(report: PreviewReportInput): string {
  const errors = report.errors.length === 0
    ? "No console errors were logged."
    : `Console errors (${report.errors.length}):\n${report.errors.map((error, i) => `${i + 1}. ${error}`).join("\n")}`;
  const what = `the preview of port ${report.port}: its address and console errors`;
  return [
    `Here is what the web app preview on port ${report.port} shows: the page's address and the errors its console logged.`,
    quoted({ from: `the app in the preview (port ${report.port})`, what }, `Address: ${report.url}\n\n${errors}`),
  ].join("\n\n");
}
