/** What a review message says of one comment. */
export interface ReviewPoint {
  path: string;
  line: number;
  body: string;
  /** The commented line and a little before it, diff markers first (see contextOf). */
  context: string;
}

/**
 * The one chat message a review becomes: each comment under its file and line, the diff lines it
 * is on in a fence, then what the person wrote. Plain Markdown, so the agent reads it as a person
 * would, and the person sees it in the chat as they would have typed it.
 */
export function reviewMessage(points: ReviewPoint[]): string {
  const count = points.length === 1 ? "one comment" : `${points.length} comments`;
  const parts = [`I reviewed the changes on this branch and left ${count} on the diff against the base. Please address each one.`];
  for (const point of points) {
    const lines = [`**${point.path}:${point.line}**`];
    if (point.context) {
      const fence = fenceFor(point.context);
      lines.push(`${fence}diff`, point.context, fence);
    }
    lines.push(point.body.trim());
    parts.push(lines.join("\n"));
  }
  return parts.join("\n\n");
}

/** A code fence longer than any run of backticks in the text, so the text cannot close it. */
function fenceFor(text: string): string {
  const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  return "`".repeat(Math.max(3, longest + 1));
}
