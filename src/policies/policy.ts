import { type Static, Type } from "@sinclair/typebox";
import { invalid } from "../infra/errors.ts";
import { TOOL_POLICY_MODES, type ToolPolicyMode } from "./tables.ts";

/**
 * A tool policy: which of the agent's tools run without asking, which need a person's approval
 * first, and which are refused. Tools are named as the model calls them: built-in (`bash`) or
 * from an MCP server (`mcp__<server>__<tool>`); a name ending in `*` covers every tool whose name
 * starts with what comes before it (`mcp__github__*`).
 */
export interface ToolPolicy {
  mode: ToolPolicyMode;
  /** Run without asking (custom mode). */
  allowed: string[];
  /** Refused (custom mode); wins over the other lists. */
  denied: string[];
  /** Run once a person approves (custom mode); wins over `allowed`. */
  ask: string[];
}

export type ToolDecision = "allow" | "deny" | "ask";

/** What a fresh install has: every tool runs. */
export const ALLOW_ALL: ToolPolicy = { mode: "allow_all", allowed: [], denied: [], ask: [] };

const LISTS = ["allowed", "ask", "denied"] as const;
type ListName = (typeof LISTS)[number];
const LIST_TITLES: Record<ListName, string> = { allowed: "Allowed", denied: "Denied", ask: "Ask" };

/** The most names a list may hold. */
export const MAX_LIST = 200;
/** A tool name as the Messages API and MCP allow it (letters, digits, _ - .), up to 128, maybe with a trailing `*`; or `*` alone. */
const TOOL_NAME = /^(?:[A-Za-z0-9_.-]{1,128}\*?|\*)$/;

const toolList = (name: ListName) =>
  Type.Optional(Type.Array(Type.String(), { title: LIST_TITLES[name], error: `${LIST_TITLES[name]} must be a list of tool names.` }));

/** A policy as PUT /api/config/tool-policies (and a repo's override) takes it; a list left out is empty. */
export const ToolPolicyInput = Type.Object({
  mode: Type.Union(
    TOOL_POLICY_MODES.map((mode) => Type.Literal(mode)),
    { title: "Mode", error: "Mode must be allow_all, deny_all or custom." },
  ),
  allowed: toolList("allowed"),
  denied: toolList("denied"),
  ask: toolList("ask"),
});
export type ToolPolicyInput = Static<typeof ToolPolicyInput>;

/** Whether a list entry covers the tool: the same name, or a prefix ending in `*`. */
export function covers(entry: string, tool: string): boolean {
  return entry.endsWith("*") ? tool.startsWith(entry.slice(0, -1)) : entry === tool;
}

/**
 * What the policy says of a call of `tool`. allow_all allows and deny_all denies everything. In
 * custom mode `denied` wins, then `ask`, then `allowed`; a tool in none of the lists is asked
 * about, so a new tool (a new MCP server's) never runs unseen: `allowed` means "no need to ask".
 */
export function decide(policy: ToolPolicy, tool: string): ToolDecision {
  if (policy.mode === "allow_all") return "allow";
  if (policy.mode === "deny_all") return "deny";
  const listed = (list: string[]) => list.some((entry) => covers(entry, tool));
  if (listed(policy.denied)) return "deny";
  if (listed(policy.ask)) return "ask";
  if (listed(policy.allowed)) return "allow";
  return "ask";
}

/**
 * The input as a policy, or a 400 naming the list at fault: a name that is no tool name, a list
 * longer than MAX_LIST, or a name in two lists (which list would it follow?). Names repeated
 * within one list count once. Lists are kept whatever the mode, so switching back to custom
 * finds them again.
 */
export function checkPolicy(input: ToolPolicyInput): ToolPolicy {
  const policy: ToolPolicy = { mode: input.mode, allowed: [], denied: [], ask: [] };
  const listOf = new Map<string, ListName>();
  for (const list of LISTS) {
    const names = [...new Set(input[list] ?? [])];
    const title = LIST_TITLES[list];
    if (names.length > MAX_LIST) throw invalid(list, `${title} may name at most ${MAX_LIST} tools.`);
    for (const name of names) {
      if (!TOOL_NAME.test(name)) {
        throw invalid(
          list,
          `${title}: ${JSON.stringify(name.slice(0, 140))} is not a tool name. Use names such as bash or mcp__github__create_issue (letters, digits, _ - .), or a prefix ending in * such as mcp__github__*.`,
        );
      }
      const other = listOf.get(name);
      if (other) throw invalid(list, `${name} is in both ${other} and ${list}; put each tool in one list.`);
      listOf.set(name, list);
    }
    policy[list] = names;
  }
  return policy;
}

/** One sentence on what a policy does, for pages. */
export function describePolicy(policy: ToolPolicy): string {
  if (policy.mode === "allow_all") return "Every tool runs without asking.";
  if (policy.mode === "deny_all") return "Every tool is refused.";
  const parts = [
    policy.denied.length ? `refuses ${policy.denied.join(", ")}` : "",
    policy.ask.length ? `asks before ${policy.ask.join(", ")}` : "",
    policy.allowed.length ? `runs ${policy.allowed.join(", ")} without asking` : "",
  ].filter(Boolean);
  return `Custom: ${parts.length ? `${parts.join("; ")}; ` : ""}asks before any other tool.`;
}
