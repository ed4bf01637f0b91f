import { join } from "node:path";
import type { Agent } from "../../agents/agents.ts";

/** Where in the person's workspace an agent of the ACP engine keeps its state (its HOME): it outlives their pod, as Claude Code's does. */
const AGENT_HOMES = "acp-agents";

/**
 * What an agent's process needs beside the launch's environment and the gateway's variables, to
 * answer on the session's model through Pier's gateway alone, and to ask the client before its
 * tools run (so the tool policy rules them). opencode would otherwise pick its own hosted free
 * model (which bypasses the gateway), ask nobody, and fail without a HOME it can write; its
 * Anthropic client wants the API's base URL with its `/v1`. Gemini CLI would otherwise pick its
 * model itself ("auto"), asking a second model which one first.
 */
export function agentEnv(agent: Agent, model: string, gateway: Record<string, string>, workspace: string): Record<string, string> {
  const env: Record<string, string> = { HOME: join(workspace, AGENT_HOMES, agent.id) };
  if (agent.package === "opencode-ai" && agent.service === "anthropic") {
    const config = {
      model: `anthropic/${model}`,
      small_model: `anthropic/${model}`,
      enabled_providers: ["anthropic"],
      autoupdate: false,
      share: "disabled",
      ...(gateway.ANTHROPIC_BASE_URL ? { provider: { anthropic: { options: { baseURL: `${gateway.ANTHROPIC_BASE_URL.replace(/\/$/, "")}/v1` } } } } : {}),
    };
    env.OPENCODE_CONFIG_CONTENT = JSON.stringify(config);
    env.OPENCODE_PERMISSION = JSON.stringify({ "*": "ask" });
  }
  if (agent.package === "@google/gemini-cli") env.GEMINI_MODEL = model;
  return env;
}
