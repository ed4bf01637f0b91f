import { modelServiceOf } from "../../agents/agent-models.ts";
import type { Agent } from "../../agents/agents.ts";
import { ENGINE_CHOICES } from "../../../views/components.tsx";

/** The forms' one choice of engine: Pier's agent, Claude Code, or each ACP agent as `acp:<id>`. */
const ACP_CHOICE = "acp:";

/** The engines a form offers, each ACP agent with its model service (which the model's choice follows). */
export function engineChoices(agents: Agent[]): Array<[string, string, string?]> {
  return [...ENGINE_CHOICES, ...agents.map((agent): [string, string, string] => [`${ACP_CHOICE}${agent.id}`, `${agent.name} (ACP)`, agent.service])];
}

/** The price table's models, each with the service that answers it (see ModelField). */
export function modelChoices(models: string[]): Array<[string, string | null]> {
  return models.map((model) => [model, modelServiceOf(model)]);
}

/** The model service of the form's engine choice, when it is an ACP agent's (null: any model). */
export function serviceOfChoice(agents: Agent[], choice: unknown): string | null {
  if (typeof choice !== "string" || !choice.startsWith(ACP_CHOICE)) return null;
  return agents.find((agent) => agent.id === choice.slice(ACP_CHOICE.length))?.service ?? null;
}

/**
 * A form's engine choice as the API takes it: an ACP agent is engine "acp" with that agent. A
 * model sent with an agent on none (a page without JavaScript cannot leave the field out) is
 * dropped: the form offers it none.
 */
export function engineChosen(agents: Agent[], engine: unknown, model: unknown): { engine: unknown; agent?: string; model: unknown } {
  if (typeof engine !== "string" || !engine.startsWith(ACP_CHOICE)) return { engine, model };
  const agent = engine.slice(ACP_CHOICE.length);
  return { engine: "acp", agent, model: serviceOfChoice(agents, engine) === "none" ? undefined : model };
}
