import { expect, test } from "bun:test";
import { toCsv } from "../../src/infra/csv.ts";
import { parseCsv } from "../costs/seed.ts";

test("CSV quotes what RFC 4180 says to quote and reads back the same", () => {
  const rows = [["plain", 1.5, null], ['say "hi", then go', 0, "two\r\nlines"], ["new\nline", 1e-7, ""]];
  const text = toCsv(["a", "b", "c"], rows);
  expect(text).toBe('a,b,c\r\nplain,1.5,\r\n"say ""hi"", then go",0,"two\r\nlines"\r\n"new\nline",1e-7,\r\n');
  expect(parseCsv(text)).toEqual([["a", "b", "c"], ["plain", "1.5", ""], ['say "hi", then go', "0", "two\r\nlines"], ["new\nline", "1e-7", ""]]);
});

test("text a spreadsheet would run as a formula is kept as text", () => {
  for (const formula of ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\r=x", '=HYPERLINK("http://evil.test","a")']) {
    const [, [cell]] = parseCsv(toCsv(["key"], [[formula]])) as [string[], string[]];
    expect(cell).toBe(`'${formula}`);
  }
  // Numbers are numbers, even negative ones; only text is guarded.
  expect(toCsv(["n"], [[-2]])).toBe("n\r\n-2\r\n");
  expect(toCsv(["k"], [["a=b"]])).toBe("k\r\na=b\r\n");
});
