import { modelServiceOf } from "../../agents/agent-models.ts";
import type { Agent } from "../../agents/agents.ts";
import { AppError } from "../../infra/errors.ts";
import { asInput, readInput } from "../../infra/input.ts";
import { MAX_ATTEMPTS, StartRunsBody } from "../../runs/run-input.ts";
import type { StartRunsInput } from "../../runs/runs.ts";
import { CHAT_ENGINES } from "../../sessions/tables.ts";
import { engineChosen, serviceOfChoice } from "./engine-choice.ts";

/**
 * The task page's Run form as POST /api/tasks/:id/runs reads its body: the number of attempts,
 * each attempt's engine (an ACP agent as engine and agent) and model (fields engine1, model1, …)
 * as the variants, the budget and the auto-merge box. The API's own schema checks it, so both
 * doors refuse the same things.
 */
export function readRunForm(body: unknown, agents: Agent[]): StartRunsInput {
  const form = asInput(body);
  const attempts = numberOrAsIs(form.attempts) ?? 1;
  const count = attemptCount(attempts);
  const variants = count === null ? undefined : Array.from({ length: count }, (_, i) => engineChosen(agents, form[`engine${i + 1}`], textOrMissing(form[`model${i + 1}`])));
  return readInput(StartRunsBody, {
    repoId: textOrMissing(form.repoId),
    attempts,
    variants,
    budgetUsd: numberOrAsIs(form.budgetUsd),
    // The box is drawn ticked as the setting says, so a box left unticked means no.
    autoMerge: form.autoMerge === "on",
  });
}

/**
 * A refusal of one attempt's engine or model (the API names the field, not the attempt) moved to
 * that attempt's field of the form, so the page shows it beside the choice to change: a model
 * not in the price table, or not of the attempt's ACP agent's service.
 */
export function locateRunFormError(error: unknown, body: unknown, models: string[], agents: Agent[]): unknown {
  if (!(error instanceof AppError) || !["variants", "engine", "model"].includes(error.field ?? "")) return error;
  const form = asInput(body);
  const count = attemptCount(numberOrAsIs(form.attempts) ?? 1) ?? 0;
  for (let n = 1; n <= count; n++) {
    const engine = form[`engine${n}`];
    const model = form[`model${n}`];
    const service = serviceOfChoice(agents, engine);
    if (error.field !== "model" && service === null && !CHAT_ENGINES.some((name) => name === engine)) return new AppError(error.status, error.code, error.message, `engine${n}`);
    const unfit = service !== null && service !== "none" && typeof model === "string" && modelServiceOf(model) !== service;
    if (error.field !== "engine" && typeof model === "string" && model !== "" && (!models.includes(model) || unfit)) {
      return new AppError(error.status, error.code, error.message, `model${n}`);
    }
  }
  return error;
}

function attemptCount(attempts: unknown): number | null {
  return typeof attempts === "number" && Number.isInteger(attempts) && attempts >= 1 && attempts <= MAX_ATTEMPTS ? attempts : null;
}

/** A form's number as a number; an empty field as left out; anything else as it came, for the schema to refuse in its own words. */
function numberOrAsIs(value: unknown): unknown {
  if (value === undefined || value === "") return undefined;
  if (typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value))) return Number(value);
  return value;
}

function textOrMissing(value: unknown): unknown {
  return value === "" ? undefined : value;
}
