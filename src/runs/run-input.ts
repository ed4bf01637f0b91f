import { Type } from "@sinclair/typebox";
import { optionalText } from "../infra/input.ts";
import { EngineField } from "../sessions/engine-field.ts";

/** The most attempts one start makes: each is a pod's worth of work and a model's spending. */
export const MAX_ATTEMPTS = 4;

/** POST /api/tasks/:id/runs, as the HTTP layer reads it (see StartRunsInput in runs.ts). */
export const StartRunsBody = Type.Object({
  repoId: optionalText("Repository"),
  engine: Type.Optional(EngineField),
  model: optionalText("Model"),
  agent: optionalText("Agent"),
  attempts: Type.Optional(Type.Integer({ title: "Attempts", minimum: 1, maximum: MAX_ATTEMPTS, error: `Attempts must be a whole number from 1 to ${MAX_ATTEMPTS}.` })),
  variants: Type.Optional(
    Type.Array(Type.Object({ engine: EngineField, model: optionalText("Model"), agent: optionalText("Agent") }), {
      title: "Variants",
      minItems: 1,
      maxItems: MAX_ATTEMPTS,
      error: `Variants must be a list of 1 to ${MAX_ATTEMPTS} attempts, each {engine, model?, agent?}.`,
    }),
  ),
  budgetUsd: Type.Optional(Type.Number({ title: "Budget", exclusiveMinimum: 0, maximum: 10_000_000, error: "Budget must be an amount in USD above 0." })),
  autoMerge: Type.Optional(Type.Boolean({ title: "Auto-merge", error: "Auto-merge must be true or false." })),
});
