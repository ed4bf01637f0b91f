import { expect, test } from "bun:test";
import { describeContent, oneLine, readSkillFile, renderSkillFile, yamlString } from "../../src/skills/skill-file.ts";

/** The front matter of a SKILL.md, read by a real YAML parser (as Claude Code reads it). */
function frontMatter(file: string): Record<string, unknown> {
  const match = /^---\n([\s\S]*?)\n---\n/.exec(file);
  if (!match) throw new Error(`no front matter in ${file}`);
  return Bun.YAML.parse(match[1]!) as Record<string, unknown>;
}

test("a description comes from the first heading, else the first line that says anything", () => {
  expect(describeContent("Intro line\n\n## Release notes ##\nbody")).toBe("Release notes");
  expect(describeContent("\n\n  Write the notes: briefly.  \nmore")).toBe("Write the notes: briefly.");
  expect(describeContent("#hashtag is not a heading\n")).toBe("#hashtag is not a heading");
  expect(describeContent("")).toBe("");
  expect(oneLine("x".repeat(400))).toHaveLength(300);
});

test("any description gives valid YAML that reads back as it was meant", () => {
  const hostile = [
    "Deploy: staging, then prod",
    'She said "ship it" and left',
    "it's 'quoted' too",
    "# not a comment",
    "key: value\nsecond: line",
    "---\nname: evil\n---",
    "tab\there, backslash \\ and {braces} [brackets] & *alias !tag | > %",
    "line\u2028separator\u0085next\u2029para",
    "nul\u0000bell\u0007 and a lone \ud800 surrogate",
    "ünïcødé ✓ 🚀",
    "  leading and trailing spaces  ",
    "null",
    "true",
    "123",
    "",
  ];
  for (const description of hostile) {
    const file = renderSkillFile("release-notes", description, "# Notes\n\nWrite them.");
    const parsed = frontMatter(file);
    expect(parsed.name).toBe("release-notes");
    expect(typeof parsed.description).toBe("string");
    expect(Object.keys(parsed).sort()).toEqual(["description", "name"]);
    expect(file.endsWith("# Notes\n\nWrite them.\n")).toBe(true);
  }
  // What YAML can hold comes back exactly; what it cannot (control characters, lone surrogates) is dropped.
  expect(Bun.YAML.parse(`d: ${yamlString('a: "b"\nc # d')}`)).toEqual({ d: 'a: "b"\nc # d' });
  expect(Bun.YAML.parse(`d: ${yamlString("nul\u0000bell\u0007")}`)).toEqual({ d: "nulbell" });
  expect(Bun.YAML.parse(`d: ${yamlString("a\u2028b")}`)).toEqual({ d: "a\u2028b" });
});

test("a committed SKILL.md's front matter is read without a YAML parser: plain, quoted and block scalars", () => {
  expect(readSkillFile('---\nname: deploy\ndescription: "Ship it: \\"now\\""\ncategory: deployment\n---\n\n# Deploy\n')).toEqual({
    fields: { name: "deploy", description: 'Ship it: "now"', category: "deployment" },
    body: "# Deploy\n",
  });
  expect(readSkillFile("---\r\nname: 'it''s'\r\ndescription: >\r\n  folded\r\n  text\r\nother: x # y\r\n---\r\nBody").fields).toEqual({ name: "it's", description: "folded text" });
  expect(readSkillFile("---\nname: plain # comment\n...\nBody")).toEqual({ fields: { name: "plain" }, body: "Body" });
  expect(readSkillFile("# No front matter\n")).toEqual({ fields: {}, body: "# No front matter\n" });
  // Aliases, anchors and tags are text here, never expanded.
  const bomb = `---\nname: &a [*a, *a]\ndescription: !!binary aGVsbG8=\n---\nx`;
  expect(readSkillFile(bomb).fields).toEqual({ name: "&a [*a, *a]", description: "!!binary aGVsbG8=" });
});
