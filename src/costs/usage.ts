/**
 * What one model response used, in tokens: the cost ledger prices it, the chat shows it. The
 * browser bundle imports this file (through the chat protocol), so it imports nothing.
 */
export interface Usage {
  inputTokens: number;
  outputTokens: number;
  cacheWriteTokens: number;
  cacheReadTokens: number;
}
