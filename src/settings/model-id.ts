/**
 * A model id as the price table keys it and the default model names it, such as claude-sonnet-4-6.
 * Here, not in costs: costs read the settings (budgets), so settings must not import costs back.
 */
const MODEL_ID = /^[a-z0-9][a-z0-9.-]{1,99}$/;

export function isModelId(value: unknown): value is string {
  return typeof value === "string" && MODEL_ID.test(value);
}
