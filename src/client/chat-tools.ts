// A tool call in the chat: one line (the tool's name and what it works on) that opens to the full
// input and, once it arrives, the output and any diff.

import { toolSummary } from "./chat-format.ts";
import { el } from "./dom.ts";

/** Outputs longer than this show their start and say how much was left out. */
const MAX_OUTPUT_CHARS = 100_000;

export class ToolCallView {
  readonly element: HTMLDetailsElement;
  private readonly status = el("span", { class: "chat-tool-status" }, "running…");
  private readonly body = el("div", { class: "chat-tool-body" });

  constructor(name: string, input: unknown) {
    this.element = el(
      "details",
      { class: "chat-item chat-tool", "data-state": "running" },
      el(
        "summary",
        {},
        el("span", { class: "chat-tool-name" }, name),
        el("span", { class: "chat-tool-summary" }, toolSummary(input)),
        this.status,
      ),
      this.body,
    );
    this.body.append(section("Input", inputView(input)));
  }

  /** The tool policy asks a person first: it has not started. */
  awaitingApproval(): void {
    this.status.replaceChildren("awaiting approval");
  }

  /** Approved: it runs now. */
  approved(): void {
    this.status.replaceChildren("running…");
  }

  /** Its approval expired with its turn: it never ran, and no result will come. */
  notRun(): void {
    this.element.dataset.state = "not-run";
    this.status.replaceChildren("not run");
  }

  /**
   * The result: output (an error's in the error colour) and, for file edits, the diff. A refused
   * call (by the tool policy or a person) never ran; its output says why.
   */
  finish(output: string, isError: boolean, diff?: string, refused = false): void {
    this.element.dataset.state = isError ? "error" : "done";
    this.body.querySelectorAll(".chat-tool-result").forEach((node) => node.remove());
    if (diff) {
      const view = diffView(diff);
      this.status.replaceChildren(view.stats);
      this.body.append(section("Diff", view.element, "chat-tool-result"));
    } else this.status.replaceChildren(refused ? "refused" : isError ? "failed" : "");
    if (output !== "" || !diff) {
      this.body.append(section(refused ? "Refused" : isError ? "Error" : "Output", outputView(output), "chat-tool-result"));
    }
  }
}

/** A result whose call is not in the view (it should not happen; shown rather than lost). */
export function orphanResult(output: string, isError: boolean, diff?: string): HTMLElement {
  const view = new ToolCallView("result", undefined);
  view.finish(output, isError, diff);
  return view.element;
}

function section(title: string, content: HTMLElement, className = ""): HTMLElement {
  return el("div", { class: `chat-tool-section ${className}`.trim() }, el("p", { class: "chat-tool-label" }, title), content);
}

/** Each field of the input with its value as is: a command or file content reads as written. */
export function inputView(input: unknown): HTMLElement {
  if (typeof input !== "object" || input === null || Array.isArray(input)) return pre(stringify(input));
  const list = el("dl", { class: "chat-tool-input" });
  for (const [key, value] of Object.entries(input as Record<string, unknown>)) {
    list.append(el("dt", {}, key), el("dd", {}, pre(stringify(value))));
  }
  return list;
}

function outputView(output: string): HTMLElement {
  if (output === "") return el("p", { class: "muted chat-tool-empty" }, "(no output)");
  if (output.length <= MAX_OUTPUT_CHARS) return pre(output);
  const left = output.length - MAX_OUTPUT_CHARS;
  return pre(`${output.slice(0, MAX_OUTPUT_CHARS)}\n… ${left.toLocaleString()} more characters`);
}

function pre(text: string): HTMLElement {
  return el("pre", { class: "chat-pre" }, text);
}

function stringify(value: unknown): string {
  if (typeof value === "string") return value;
  if (value === undefined) return "";
  return JSON.stringify(value, null, 2) ?? String(value);
}

/** A unified diff with its lines coloured, and "+3 −1" for the summary line. */
export function diffView(diff: string): { element: HTMLElement; stats: HTMLElement } {
  const element = el("pre", { class: "chat-pre chat-diff" });
  let added = 0;
  let removed = 0;
  const lines = diff.replace(/\n$/, "").split("\n");
  for (const line of lines) {
    const kind = lineKind(line);
    if (kind === "add") added += 1;
    if (kind === "del") removed += 1;
    element.append(el("span", { class: `diff-${kind}` }, `${line}\n`));
  }
  const stats = el(
    "span",
    { class: "chat-diff-stats" },
    el("span", { class: "diff-add" }, `+${added}`),
    " ",
    el("span", { class: "diff-del" }, `−${removed}`),
  );
  return { element, stats };
}

function lineKind(line: string): "add" | "del" | "hunk" | "meta" | "context" {
  if (line.startsWith("+++ ") || line.startsWith("--- ") || /^(diff |index |new file|deleted file|similarity|rename |\\ )/.test(line)) {
    return "meta";
  }
  if (line.startsWith("@@")) return "hunk";
  if (line.startsWith("+")) return "add";
  if (line.startsWith("-")) return "del";
  return "context";
}
