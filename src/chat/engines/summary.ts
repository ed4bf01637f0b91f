import type Anthropic from "@anthropic-ai/sdk";
import { lastPromptTokens } from "../../costs/costs.ts";
import type { Db } from "../../infra/db.ts";
import type { Turn } from "../engine.ts";
import { summaryCut, toApiMessages, usageOf } from "./messages.ts";

/** When the last prompt was this big, older turns are summarised before the next turn (70% of a 200k window). */
const SUMMARISE_AT_TOKENS = 140_000;
/** The latest turns always go to the model as they are. */
const KEEP_TURNS = 2;
const SUMMARY_INSTRUCTIONS =
  "Summarise the conversation so far for the coding agent that will continue it: what the person asked for, " +
  "what was decided, which files were read or changed and how, commands that matter and their results, and what " +
  "is still open. Be specific (paths, names, numbers); leave out pleasantries.";

/**
 * Keeps the conversation within the model's window: when the last prompt was big, the turns
 * before the latest few are replaced, for the model only, by a summary the model writes. The
 * history keeps every item, and the latest turns always go as they are.
 */
export async function summariseIfFull(db: Db, client: Anthropic, model: string, turn: Turn): Promise<void> {
  if (lastPromptTokens(db, turn.session.id) < SUMMARISE_AT_TOKENS) return;
  const items = turn.items();
  const cut = summaryCut(items, KEEP_TURNS);
  if (cut === null) return;
  const previous = items.findLast((item) => item.kind === "summary");
  const earlier = [
    ...(previous?.kind === "summary" ? [{ ...previous, keepFrom: 0 }] : []),
    ...items.slice(previous?.kind === "summary" ? previous.keepFrom : 0, cut).filter((item) => item.kind !== "summary"),
  ];
  const messages = toApiMessages(earlier);
  const ask: Anthropic.TextBlockParam = { type: "text", text: SUMMARY_INSTRUCTIONS };
  const last = messages.at(-1);
  if (last?.role === "user") (last.content as Anthropic.ContentBlockParam[]).push(ask);
  else messages.push({ role: "user", content: [ask] });
  try {
    const response = await client.messages.create({ model, max_tokens: 4096, messages }, { signal: turn.signal });
    turn.recordUsage(model, usageOf(response));
    const text = response.content.flatMap((block) => (block.type === "text" ? [block.text] : [])).join("\n");
    turn.record({ kind: "summary", text, keepFrom: cut });
  } catch (error) {
    // The turn goes on with the full conversation; the API will say if it is too long.
    console.error(`[pier] summarising session ${turn.session.id} failed:`, error instanceof Error ? error.message : error);
  }
}
