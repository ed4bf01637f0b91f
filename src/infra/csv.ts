/**
 * CSV as RFC 4180 writes it: CRLF between records, a field quoted when it holds a comma, a quote
 * or a line break, quotes inside doubled. Text that a spreadsheet would read as a formula (it
 * starts with = + - @, or a tab or carriage return that some strip first) gets a leading
 * apostrophe, so a repo or model name like `=HYPERLINK(…)` stays text when the file is opened.
 * Numbers are written as they are.
 */
export type CsvCell = string | number | null;

export function toCsv(header: readonly string[], rows: ReadonlyArray<readonly CsvCell[]>): string {
  return csvRecords([header, ...rows]);
}

/** Records without a header, for a file written a batch at a time after its first. */
export function csvRecords(rows: ReadonlyArray<readonly CsvCell[]>): string {
  return rows.map((row) => row.map(field).join(",") + "\r\n").join("");
}

function field(cell: CsvCell): string {
  if (cell === null) return "";
  if (typeof cell === "number") return String(cell);
  const text = /^[=+\-@\t\r]/.test(cell) ? `'${cell}` : cell;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}
