/** The review's reading of a patch (numbered lines, what may be commented on) and the message it sends. */
import { describe, expect, test } from "bun:test";
import { contextOf, splitPatch } from "../../src/reviews/patch.ts";
import { reviewMessage } from "../../src/reviews/review-message.ts";

const PATCH = [
  "diff --git a/app.ts b/app.ts",
  "index 1111111..2222222 100644",
  "--- a/app.ts",
  "+++ b/app.ts",
  "@@ -10,4 +10,5 @@ function main() {",
  " const a = 1;",
  "-const b = 2;",
  "+const b = 3;",
  "+const c = 4;",
  " return a;",
  "@@ -40 +41 @@",
  "-old",
  "+new",
  "diff --git a/gone.txt b/gone.txt",
  "deleted file mode 100644",
  "index 3333333..0000000",
  "--- a/gone.txt",
  "+++ /dev/null",
  "@@ -1,2 +0,0 @@",
  "-first",
  "-second",
  "",
].join("\n");

describe("a patch read for review", () => {
  test("numbers each file's lines as its hunk headers say; a deleted file is commented on in the base's numbering", () => {
    const files = splitPatch(PATCH);
    expect([...files.keys()]).toEqual(["app.ts", "gone.txt"]);
    const app = files.get("app.ts")!;
    expect([...app.commentable].sort((x, y) => x - y)).toEqual([10, 11, 12, 13, 41]);
    expect(app.lines.filter((l) => l.kind === "del").map((l) => [l.text, l.oldLine])).toEqual([["const b = 2;", 11], ["old", 40]]);
    expect([...files.get("gone.txt")!.commentable]).toEqual([1, 2]);
  });

  test("a file whose name git quotes (a quote, a newline, a backslash, a tab) is read with its lines", () => {
    const quoted = [
      'diff --git "a/we\\"ird \\\\ name.txt" "b/we\\"ird \\\\ name.txt"',
      "new file mode 100644",
      "--- /dev/null",
      '+++ "b/we\\"ird \\\\ name.txt"',
      "@@ -0,0 +1,2 @@",
      "+first",
      "+second",
      'diff --git "a/new\\nline\\there\\001.md" "b/new\\nline\\there\\001.md"',
      "new file mode 100644",
      "@@ -0,0 +1 @@",
      "+only",
      'diff --git "a/x.txt" "b/y.txt"',
      "@@ -0,0 +1 @@",
      "+not one path",
      "",
    ].join("\n");
    const files = splitPatch(quoted);
    expect([...files.keys()]).toEqual(['we"ird \\ name.txt', "new\nline\there\u0001.md"]);
    expect([...files.get('we"ird \\ name.txt')!.commentable]).toEqual([1, 2]);
    expect(contextOf(files.get("new\nline\there\u0001.md")!, 1, false)).toBe("+only");
  });

  test("a comment's context is its line and up to two before it in the same hunk", () => {
    const files = splitPatch(PATCH);
    expect(contextOf(files.get("app.ts")!, 12, false)).toBe("-const b = 2;\n+const b = 3;\n+const c = 4;");
    expect(contextOf(files.get("app.ts")!, 41, false)).toBe("-old\n+new");
    expect(contextOf(files.get("gone.txt")!, 1, true)).toBe("-first");
  });

  test("the message carries each file and line, and code with backticks cannot close its fence", () => {
    const message = reviewMessage([
      { path: "app.ts", line: 12, body: "Why 4?", context: "+const c = 4;" },
      { path: "doc.md", line: 3, body: "Close the fence ``` here?", context: "+```js" },
    ]);
    expect(message).toContain("2 comments");
    expect(message).toContain("**app.ts:12**\n```diff\n+const c = 4;\n```\nWhy 4?");
    expect(message).toContain("**doc.md:3**\n````diff\n+```js\n````\nClose the fence ``` here?");
  });
});
