import { join } from "node:path";
import type { Agent } from "../../agents/agents.ts";
import type { ModelServiceName } from "../../gateway/model-service.ts";

/** Where in the person's workspace an agent of the ACP engine keeps its state (its HOME): it outlives their pod, as Claude Code's does. */
const AGENT_HOMES = "acp-agents";

/**
 * What an agent's process needs beside the launch's environment and the gateway's variables, to
 * answer on the session's model through Pier's gateway alone, and to ask the client before its
 * tools run (so the tool policy rules them). opencode would otherwise pick its own hosted free
 * model (which bypasses the gateway), ask nobody, and fail without a HOME it can write; its
 * clients want each API's base URL with its version (Anthropic's `/v1`, Gemini's `/v1beta`).
 * Gemini CLI would otherwise pick its model itself ("auto"), asking a second model which one first.
 */
export function agentEnv(agent: Agent, model: string, gateway: Record<string, string>, workspace: string): Record<string, string> {
  const env: Record<string, string> = { HOME: join(workspace, AGENT_HOMES, agent.id) };
  const provider = agent.package === "opencode-ai" && agent.service !== "none" ? OPENCODE_PROVIDERS[agent.service] : null;
  if (provider) {
    const baseURL = gateway[provider.baseUrlVariable] ? `${gateway[provider.baseUrlVariable]!.replace(/\/$/, "")}${provider.basePath}` : null;
    const config = {
      model: `${provider.id}/${model}`,
      small_model: `${provider.id}/${model}`,
      enabled_providers: [provider.id],
      autoupdate: false,
      share: "disabled",
      ...(baseURL ? { provider: { [provider.id]: { options: { baseURL } } } } : {}),
    };
    env.OPENCODE_CONFIG_CONTENT = JSON.stringify(config);
    env.OPENCODE_PERMISSION = JSON.stringify({ "*": "ask" });
    // Its Google provider reads its key under this name, not GEMINI_API_KEY.
    if (agent.service === "gemini" && gateway.GEMINI_API_KEY) env.GOOGLE_GENERATIVE_AI_API_KEY = gateway.GEMINI_API_KEY;
  }
  if (agent.package === "@google/gemini-cli") env.GEMINI_MODEL = model;
  return env;
}

/** opencode's provider for each model service: its id, and the gateway's base URL as its client wants it (with the API's version). */
const OPENCODE_PROVIDERS: Record<ModelServiceName, { id: string; baseUrlVariable: string; basePath: string }> = {
  anthropic: { id: "anthropic", baseUrlVariable: "ANTHROPIC_BASE_URL", basePath: "/v1" },
  // OPENAI_BASE_URL ends in /v1 already.
  openai: { id: "openai", baseUrlVariable: "OPENAI_BASE_URL", basePath: "" },
  gemini: { id: "google", baseUrlVariable: "GOOGLE_GEMINI_BASE_URL", basePath: "/v1beta" },
};
