/**
 * A skill as a file: `.claude/skills/<name>/SKILL.md`, YAML front matter with its name and
 * description, then its Markdown. Written by Pier from its own records, and read (for an import)
 * from what a repository commits, which may be anything: the reader takes three plain fields and
 * never runs a YAML parser on it, so no alias, tag or depth trick reaches one.
 */

/** A description is cut to this many characters. */
export const MAX_DESCRIPTION = 300;

/** Where a skill lives in a worktree (and in a repository that commits its own). */
export function skillPath(name: string): string {
  return `.claude/skills/${name}/SKILL.md`;
}

/** The description of a skill's content: its first heading, else its first line that says anything. */
export function describeContent(content: string): string {
  const lines = content.replace(/\r\n?/g, "\n").split("\n");
  const heading = lines.map((line) => /^ {0,3}#{1,6}[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$/.exec(line)?.[1]).find((text) => text?.trim());
  return oneLine(heading ?? lines.find((line) => line.trim()) ?? "");
}

/** Text as one tidy line of at most MAX_DESCRIPTION characters, with nothing a YAML or a terminal would trip on. */
export function oneLine(text: string): string {
  const flat = printable(text).replace(/\s+/g, " ").trim();
  return flat.length > MAX_DESCRIPTION ? `${flat.slice(0, MAX_DESCRIPTION - 1).trimEnd()}…` : flat;
}

/**
 * The SKILL.md Pier writes. The description goes in as a double-quoted YAML scalar, which with
 * JSON's escapes (a subset of YAML's) holds a colon, quotes, a `#` or a line break as text; the
 * name passed the name rule and needs no quoting.
 */
export function renderSkillFile(name: string, description: string, content: string): string {
  const body = content.endsWith("\n") ? content : `${content}\n`;
  return `---\nname: ${name}\ndescription: ${yamlString(description)}\n---\n\n${body}`;
}

/** A double-quoted YAML scalar for any text: what YAML cannot hold at all is dropped, line separators escaped. */
export function yamlString(text: string): string {
  return JSON.stringify(printable(text)).replace(/[\u0085\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** The text without control characters other than tab and line breaks, lone surrogates, or U+FFFE/U+FFFF. */
function printable(text: string): string {
  return text.toWellFormed().replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u0084\u0086-\u009f\ufffe\uffff]/g, "");
}

export interface FrontMatter {
  name?: string;
  description?: string;
  category?: string;
}

/**
 * Splits a SKILL.md into its front matter's name, description and category (plain, quoted or
 * block scalars on their own keys; anything else is ignored) and the Markdown after it.
 */
export function readSkillFile(text: string): { fields: FrontMatter; body: string } {
  const normal = text.replace(/^\uFEFF/, "").replace(/\r\n?/g, "\n");
  const match = /^---[ \t]*\n([\s\S]*?)\n(?:---|\.\.\.)[ \t]*(?:\n|$)/.exec(normal);
  if (!match) return { fields: {}, body: normal };
  const fields: FrontMatter = {};
  const lines = match[1]!.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const field = /^(name|description|category):[ \t]*(.*)$/.exec(lines[i]!);
    if (!field) continue;
    const key = field[1] as keyof FrontMatter;
    let raw = field[2]!.trim();
    if (/^[|>][+-]?$/.test(raw)) {
      // A block scalar: the indented lines under the key.
      const block: string[] = [];
      while (i + 1 < lines.length && (/^[ \t]/.test(lines[i + 1]!) || lines[i + 1] === "")) block.push(lines[++i]!.trim());
      raw = block.join(" ");
    }
    if (fields[key] === undefined) fields[key] = unquote(raw);
  }
  return { fields, body: normal.slice(match[0].length).replace(/^\n+/, "") };
}

/** A YAML scalar's text: double quotes with JSON's escapes, single quotes with '' for ', or plain up to a comment. */
function unquote(raw: string): string {
  if (raw.startsWith('"')) {
    const end = raw.lastIndexOf('"');
    try {
      return JSON.parse(raw.slice(0, end > 0 ? end + 1 : undefined)) as string;
    } catch {
      return raw.slice(1, end > 0 ? end : undefined);
    }
  }
  if (raw.startsWith("'")) {
    const end = raw.lastIndexOf("'");
    return raw.slice(1, end > 0 ? end : undefined).replace(/''/g, "'");
  }
  return raw.replace(/\s+#.*$/, "");
}
