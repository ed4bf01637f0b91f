import type { Agent } from "../../agents/agents.ts";

/** The id Codex knows Pier's gateway by, among its model providers. */
const CODEX_PROVIDER = "pier";

/**
 * What an agent's command line needs beside its launch's arguments to answer on the session's
 * model through Pier's gateway: only settings, never a secret (those stay in its environment).
 *
 * Codex (through `codex-acp`) ignores OPENAI_BASE_URL, and with its built-in OpenAI provider it
 * refuses `session/new` until the client authenticates, which with an API key writes the key into
 * its home (a pod file). A provider of its own pointing at the gateway (OPENAI_BASE_URL as the
 * gateway gives it, the key read from OPENAI_API_KEY, the Responses API over HTTP) needs neither.
 * Its shell snapshots would save the agent's environment, key included, into its home: they are
 * off (its commands get no variable named like a key either, by Codex's default exclusions).
 * Codex asks the client before any command it does not know as read-only and before any edit
 * (approval "untrusted"), so the tool policy rules them; it does not wrap commands in a sandbox
 * of its own (which needs bubblewrap, absent from most images, and fails every command without
 * it): the pod is the agent's sandbox, as it is every engine's.
 */
export function agentArgs(agent: Agent, model: string, gateway: Record<string, string>): string[] {
  if (agent.package !== "@zed-industries/codex-acp" || agent.service !== "openai" || !gateway.OPENAI_BASE_URL) return [];
  const config: Record<string, string | boolean> = {
    model,
    model_provider: CODEX_PROVIDER,
    [`model_providers.${CODEX_PROVIDER}.name`]: "OpenAI through Pier",
    [`model_providers.${CODEX_PROVIDER}.base_url`]: gateway.OPENAI_BASE_URL,
    [`model_providers.${CODEX_PROVIDER}.env_key`]: "OPENAI_API_KEY",
    [`model_providers.${CODEX_PROVIDER}.wire_api`]: "responses",
    [`model_providers.${CODEX_PROVIDER}.supports_websockets`]: false,
    "features.shell_snapshot": false,
    approval_policy: "untrusted",
    sandbox_mode: "danger-full-access",
  };
  // Each value as TOML, which Codex parses it as (a JSON string is a TOML basic string).
  return Object.entries(config).flatMap(([key, value]) => ["-c", `${key}=${JSON.stringify(value)}`]);
}
