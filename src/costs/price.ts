import type { modelPrices } from "./tables.ts";

/** One model's prices per million tokens of each kind, as its row in the price table holds them. */
export type Price = typeof modelPrices.$inferSelect;
