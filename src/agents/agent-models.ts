import type { ModelServiceName } from "../gateway/model-service.ts";
import type { AgentService } from "./shipped.ts";

/**
 * Which service answers a model, told by its id's family as each service names its models. The
 * price table has no column for it: its ids are the services' own, and an id of no family here
 * (an admin's own name) is no service's, so no ACP agent is offered it.
 */
const FAMILIES: Array<[ModelServiceName, RegExp]> = [
  ["anthropic", /^claude-/],
  ["openai", /^(gpt-|chatgpt-|codex-|o\d)/],
  ["gemini", /^gemini-/],
];

export function modelServiceOf(model: string): ModelServiceName | null {
  return FAMILIES.find(([, family]) => family.test(model))?.[0] ?? null;
}

/** The models (of `models`, the price table's) an agent on `service` can be given: its service's own; none for `none`, which Pier does not point at a model. */
export function modelsForService(service: AgentService, models: string[]): string[] {
  return service === "none" ? [] : models.filter((model) => modelServiceOf(model) === service);
}

/** The model an agent on `service` gets when none is asked for: the settings' default when it is of that service, else the first of the service's models; null when it has none. */
export function defaultModelForService(service: AgentService, models: string[], defaultModel: string): string | null {
  const offered = modelsForService(service, models);
  return offered.includes(defaultModel) ? defaultModel : (offered[0] ?? null);
}

/** A service's name in sentences: "an OpenAI model". */
export const SERVICE_NAME: Record<ModelServiceName, string> = { anthropic: "Anthropic", openai: "OpenAI", gemini: "Gemini" };
