// Browser notifications of what changed in a session's pull requests: CI turning failing or
// passing, or changes requested. Permission is asked only when the person presses the button
// (never on load), and only changes that arrive live are told, not how things stood on load.

import type { PublicPr } from "../prs/pull-requests.ts";
import type { PrSeen } from "./pr-list.ts";

/** The sentences worth interrupting someone for, or none. */
export function newsOf(before: PrSeen, after: PublicPr): string[] {
  const news: string[] = [];
  if (after.ciStatus !== before.ciStatus && after.ciStatus === "failing") news.push(`CI is failing on #${after.number}.`);
  if (after.ciStatus !== before.ciStatus && after.ciStatus === "passing") news.push(`CI passes on #${after.number}.`);
  if (after.reviewStatus !== before.reviewStatus && after.reviewStatus === "changes_requested") news.push(`Changes were requested on #${after.number}.`);
  return news;
}

export class PrNotifications {
  constructor(
    private readonly button: HTMLButtonElement,
    private readonly state: HTMLElement,
  ) {
    if (!("Notification" in window)) return;
    button.addEventListener("click", async () => {
      await Notification.requestPermission();
      this.showPermission();
      if (Notification.permission === "granted") this.state.focus();
    });
    this.showPermission();
  }

  /** Tells the person what changed, if they allowed notifications. */
  tell(before: PrSeen, after: PublicPr): void {
    const news = newsOf(before, after);
    if (news.length === 0 || !("Notification" in window) || Notification.permission !== "granted") return;
    // One notification per pull request at a time: a newer one replaces the last.
    const notification = new Notification(news.join(" "), { body: after.title, tag: `pier-pr-${after.number}` });
    notification.addEventListener("click", () => {
      window.focus();
      notification.close();
    });
  }

  private showPermission(): void {
    const permission = Notification.permission;
    this.button.hidden = permission !== "default";
    this.state.hidden = permission === "default";
    this.state.tabIndex = -1;
    this.state.textContent =
      permission === "granted"
        ? "This browser will notify you when CI turns failing or passing, or changes are requested."
        : "Notifications are blocked for Pier in this browser's settings.";
  }
}
