/** A recording (asciicast v2) read back: its events after the header line. */
export function castEvents(cast: string): Array<[number, string, string]> {
  return cast
    .trimEnd()
    .split("\n")
    .slice(1)
    .map((line) => JSON.parse(line) as [number, string, string]);
}

/**
 * What a recording's output events say, joined: output is recorded as it arrived, so one line can
 * be split over two events ("seen-42", then "\r\n"); look for text in this, not in the file.
 */
export function castOutput(cast: string): string {
  return castEvents(cast)
    .filter(([, code]) => code === "o")
    .map(([, , data]) => data)
    .join("");
}
