/** What `\x` stands for in a quoted path, besides octal bytes. */
const ESCAPES: Record<string, number> = { a: 7, b: 8, t: 9, n: 10, v: 11, f: 12, r: 13, '"': 34, "\\": 92 };

/**
 * Reads a path git wrote in double quotes (as it writes one holding a quote, a backslash or a
 * control character in a patch's header): C-style escapes and octal bytes, starting at `from`.
 * Returns the path and where the text goes on after the closing quote, or null when there is no
 * well-formed quoted path there. Hand-written: it is git's own small format (quote_c_style in
 * git's quote.c), which no kept package reads.
 */
export function readQuotedPath(text: string, from: number): { path: string; end: number } | null {
  if (text[from] !== '"') return null;
  const bytes: number[] = [];
  for (let i = from + 1; i < text.length; i++) {
    const char = text[i]!;
    if (char === '"') return { path: Buffer.from(bytes).toString("utf8"), end: i + 1 };
    if (char !== "\\") {
      bytes.push(...Buffer.from(char, "utf8"));
      continue;
    }
    const next = text[++i] ?? "";
    const octal = /^[0-3][0-7]{2}$/.exec(text.slice(i, i + 3));
    if (octal) {
      bytes.push(Number.parseInt(octal[0], 8));
      i += 2;
    } else if (next in ESCAPES) {
      bytes.push(ESCAPES[next]!);
    } else {
      return null;
    }
  }
  return null;
}
