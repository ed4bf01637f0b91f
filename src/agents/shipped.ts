/** The model service an agent's requests go to, through Pier's gateway; `none` when Pier does not point it at one. */
export const AGENT_SERVICES = ["anthropic", "openai", "gemini", "none"] as const;
export type AgentService = (typeof AGENT_SERVICES)[number];

/** An agent as Pier defines it before any admin changes it. */
export interface AgentDefinition {
  id: string;
  name: string;
  package: string | null;
  version: string | null;
  /** The program the package installs (its `bin`); null for a command agent. */
  program: string | null;
  command: string | null;
  args: string[];
  service: AgentService;
}

/**
 * The agents every Pier has without an admin doing anything, each pinned to a version checked on
 * the registry (versions move with Pier's releases; an admin's edit pins its own). Each speaks the
 * Agent Client Protocol over stdio when started as here:
 * - opencode: `opencode acp`. `opencode-ai` is a shim whose install script copies the real program
 *   from a platform package of the same version (`opencode-linux-x64`, `-musl`, `-baseline`, …);
 *   Pier supplies that platform package's program (see agent-plan.ts).
 * - Claude Code through its ACP adapter (`claude-agent-acp`, a Node program on the Claude Agent SDK,
 *   whose own platform packages hold Claude Code).
 * - Gemini CLI with `--acp` (its older `--experimental-acp` is still accepted, and said deprecated).
 * - Codex through its ACP adapter (`codex-acp`, a native program in platform packages, as opencode).
 */
export const SHIPPED_AGENTS: readonly AgentDefinition[] = [
  { id: "opencode", name: "opencode", package: "opencode-ai", version: "1.18.32", program: "opencode", command: null, args: ["acp"], service: "anthropic" },
  {
    id: "claude-code",
    name: "Claude Code (ACP adapter)",
    package: "@agentclientprotocol/claude-agent-acp",
    version: "0.101.0",
    program: "claude-agent-acp",
    command: null,
    args: [],
    service: "anthropic",
  },
  { id: "gemini", name: "Gemini CLI", package: "@google/gemini-cli", version: "0.61.0", program: "gemini", command: null, args: ["--acp"], service: "gemini" },
  { id: "codex", name: "Codex (ACP adapter)", package: "@zed-industries/codex-acp", version: "0.16.0", program: "codex-acp", command: null, args: [], service: "openai" },
];

/**
 * What a package's program needs in its environment to behave as a quiet process speaking ACP,
 * whoever defined the agent: opencode would otherwise update itself and fetch its list of models
 * from the Internet at start.
 */
const PROGRAM_ENV: Record<string, Record<string, string>> = {
  "opencode-ai": { OPENCODE_DISABLE_AUTOUPDATE: "1", OPENCODE_DISABLE_MODELS_FETCH: "1" },
};

export function programEnv(packageName: string | null): Record<string, string> {
  return { ...(packageName === null ? {} : PROGRAM_ENV[packageName]) };
}
