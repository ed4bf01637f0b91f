// The list of a session's pull requests in its panel: each update redraws its pull request in
// place (or adds it, newest first), and says what it was before, so news can be told apart from
// what was already known.

import type { PublicPr } from "../prs/pull-requests.ts";
import { prRow } from "./pr-row.ts";

/** What the panel last showed of a pull request: enough to tell what an update changed. */
export type PrSeen = Pick<PublicPr, "ciStatus" | "reviewStatus">;

export class PrList {
  private readonly seen = new Map<number, PrSeen>();
  private readonly list: HTMLUListElement;
  private readonly empty: HTMLElement | null;

  /** `count` is the number in the pane's heading, which shows even while the pane is folded. */
  constructor(root: HTMLElement, private readonly count: HTMLElement | null) {
    this.list = root.querySelector<HTMLUListElement>(".pr-list")!;
    this.empty = root.querySelector<HTMLElement>(".pr-empty");
    for (const row of this.rows()) {
      this.seen.set(Number(row.dataset.pr), { ciStatus: row.dataset.ci as PrSeen["ciStatus"], reviewStatus: row.dataset.review as PrSeen["reviewStatus"] });
    }
  }

  has(number: number): boolean {
    return this.seen.has(number);
  }

  /** Shows a pull request as it now stands; returns what was shown of it before (nothing when it is new here). */
  apply(pr: PublicPr): PrSeen | undefined {
    const before = this.seen.get(pr.number);
    this.seen.set(pr.number, { ciStatus: pr.ciStatus, reviewStatus: pr.reviewStatus });
    const row = prRow(pr);
    const existing = this.rows().find((item) => Number(item.dataset.pr) === pr.number);
    if (existing) {
      const hadFocus = existing.contains(document.activeElement);
      existing.replaceWith(row);
      // Whoever was reading the row with the keyboard keeps their place.
      if (hadFocus) row.querySelector<HTMLElement>(".pr-title")?.focus();
    } else {
      const next = this.rows().find((item) => Number(item.dataset.pr) < pr.number);
      this.list.insertBefore(row, next ?? null);
    }
    const total = this.rows().length;
    if (this.empty) this.empty.hidden = total > 0;
    if (this.count) this.count.textContent = String(total);
    return before;
  }

  private rows(): HTMLLIElement[] {
    return [...this.list.querySelectorAll<HTMLLIElement>(":scope > li[data-pr]")];
  }
}
