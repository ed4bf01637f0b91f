import type { Terminal } from "@xterm/headless";

/**
 * Reading what a terminal printed, for tests that check output line by line: escape sequences
 * taken out, numbered lines found and checked for gaps, bytes played into a real (headless) terminal.
 */

/**
 * The numbers of the lines that show exactly `<prefix><number>` (escape sequences aside, and what
 * a carriage return wrote over: bash ends bracketed paste with `ESC[?2004l CR` before a command's output).
 */
export function numbersIn(lines: string[], prefix: string): number[] {
  const pattern = new RegExp(`^${prefix}(\\d+)$`);
  return lines.flatMap((line) => {
    const shown = stripEscapes(line);
    const match = shown.slice(shown.lastIndexOf("\r") + 1).match(pattern);
    return match ? [Number(match[1])] : [];
  });
}

/** "ok", or where the numbers first stop counting up by one from `from` to `to`. */
export function contiguity(numbers: number[], from: number, to: number): string {
  if (numbers[0] !== from) return `starts at ${numbers[0]}, not ${from}`;
  for (let i = 1; i < numbers.length; i++) {
    if (numbers[i] !== numbers[i - 1]! + 1) return `after ${numbers[i - 1]} comes ${numbers[i]} (line ${i})`;
  }
  if (numbers.at(-1) !== to) return `ends at ${numbers.at(-1)}, not ${to}`;
  return "ok";
}

/** Terminal text without escape sequences (CSI, OSC, and two-byte ones). */
export function stripEscapes(text: string): string {
  return text
    .replace(/\x1b\][^\x07\x1b]*(\x07|\x1b\\)/g, "")
    .replace(/\x1b\[[0-9;?<=>!]*[ -/]*[@-~]/g, "")
    .replace(/\x1b[@-Z\\-_()#%*+=>][0-9A-Za-z]?/g, "");
}

export function decode(chunks: Uint8Array[]): string {
  return new TextDecoder().decode(Buffer.concat(chunks));
}

export async function feed(terminal: Terminal, data: Uint8Array): Promise<void> {
  await new Promise<void>((resolve) => terminal.write(data, resolve));
}

export function visibleLines(terminal: Terminal): string[] {
  const buffer = terminal.buffer.active;
  return Array.from({ length: terminal.rows }, (_, row) => buffer.getLine(buffer.viewportY + row)?.translateToString(true) ?? "");
}
