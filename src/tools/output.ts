import { createTwoFilesPatch } from "diff";

/** What the model sees of a tool's output at most. */
const MAX_OUTPUT = 30_000;
/** read_file and edit_file take files up to this size; bash can deal with bigger ones. */
export const MAX_FILE_BYTES = 4 * 1024 * 1024;
/** What a command may print before it is cut off (the model sees at most MAX_OUTPUT characters of it). */
export const MAX_COMMAND_OUTPUT_BYTES = 1024 * 1024;

export function truncate(text: string): string {
  if (text.length <= MAX_OUTPUT) return text;
  return `${text.slice(0, MAX_OUTPUT)}\n[output truncated: ${text.length - MAX_OUTPUT} more characters not shown]`;
}

export function unifiedDiff(path: string, before: string, after: string): string {
  return createTwoFilesPatch(`a/${path}`, `b/${path}`, before, after, "", "", { context: 3 });
}
