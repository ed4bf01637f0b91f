import { eq } from "drizzle-orm";
import { type Actor, assertPerson } from "../auth/actor.ts";
import type { Db } from "../infra/db.ts";
import { type Checked, type Destination, type Resolve, checkDestination, fetchDestination, systemResolve } from "../infra/destination.ts";
import { invalid } from "../infra/errors.ts";
import type { Input } from "../infra/input.ts";
import type { SecretBox } from "../infra/secret-box.ts";
import type { AuditLog } from "../audit/audit-log.ts";
import { attentionWebhooks } from "./tables.ts";

/** What a person sees of their webhook: where it goes, never the rest of its URL. */
export interface WebhookView {
  set: boolean;
  /** `https://host/••••`, or null. */
  mask: string | null;
}

/** One "needs you" message, as every webhook gets it: plain JSON, no secret in it. */
export interface AttentionMessage {
  /** One line for Slack-style hooks (`text`) and ntfy (`message`). */
  text: string;
  message: string;
  title: string;
  reason: string;
  sessionId: string;
  sessionTitle: string;
  repo: string;
  url: string;
}

const MAX_URL = 2048;
const SEND_TIMEOUT_MS = 5000;

export interface WebhookDeps {
  db: Db;
  box: SecretBox;
  /** PIER_WEBHOOK_ALLOW_PRIVATE: hooks may go to loopback and private networks (a homelab's ntfy). */
  allowPrivate: boolean;
  /** How hosts' names become addresses; the system resolver unless a test answers instead. */
  resolve?: Resolve;
  /** Setting and removing a hook go in it (it is a credential: its URL may hold the hook's secret). */
  audit: AuditLog;
}

const WEBHOOK_TARGET = { kind: "credential", id: "webhookUrl", name: "Needs-you webhook" };

/**
 * Each person's outgoing webhook. Pier posts from the server, to a URL a member typed, so the URL
 * is checked twice — when saved and when used (a name can point elsewhere later) — and goes only to
 * public addresses unless the admin allows private ones. When used, the name is resolved once and
 * the post goes to the address that was checked (see infra/destination.ts); redirects are not
 * followed, and a slow or failing hook is given up quietly (it is told in the log without its URL,
 * which is a secret).
 */
export class Webhooks {
  constructor(private deps: WebhookDeps) {}

  async view(actor: Actor): Promise<WebhookView> {
    assertPerson(actor);
    const url = await this.urlOf(actor.user.id);
    return url ? { set: true, mask: maskUrl(url) } : { set: false, mask: null };
  }

  /** `{webhookUrl}`: a URL sets it, "" or null removes it. `pierUrl` is where the person uses Pier. */
  async update(actor: Actor, input: Input, pierUrl: string): Promise<WebhookView> {
    assertPerson(actor);
    const value = input.webhookUrl;
    if (value === undefined) return this.view(actor);
    if (value === null || value === "") {
      const removed = this.deps.db.delete(attentionWebhooks).where(eq(attentionWebhooks.userId, actor.user.id)).returning({ userId: attentionWebhooks.userId }).all();
      if (removed.length > 0) this.deps.audit.record(actor, "credential_changed", WEBHOOK_TARGET, { detail: "cleared" });
      return this.view(actor);
    }
    if (typeof value !== "string") throw invalid("webhookUrl", "Webhook URL must be text.");
    const checked = await this.check(value);
    if ("problem" in checked) throw invalid("webhookUrl", checked.problem);
    const row = { url: await this.deps.box.seal(value), pierUrl, updatedAt: new Date() };
    this.deps.db
      .insert(attentionWebhooks)
      .values({ userId: actor.user.id, ...row })
      .onConflictDoUpdate({ target: attentionWebhooks.userId, set: row })
      .run();
    this.deps.audit.record(actor, "credential_changed", WEBHOOK_TARGET, { detail: "set" });
    return this.view(actor);
  }

  /** Where the person uses Pier, as they last saved their hook from; null without a hook. */
  pierUrlOf(userId: string): string | null {
    return this.deps.db.select({ pierUrl: attentionWebhooks.pierUrl }).from(attentionWebhooks).where(eq(attentionWebhooks.userId, userId)).get()?.pierUrl ?? null;
  }

  /** Posts the message to the person's hook, if they have one; never throws. */
  async send(userId: string, message: AttentionMessage): Promise<"sent" | "none" | "failed"> {
    const url = await this.urlOf(userId);
    if (!url) return "none";
    try {
      const checked = await this.check(url);
      if ("problem" in checked) throw new Error(checked.problem);
      const res = await fetchDestination(checked.destination, {
        method: "POST",
        headers: { "content-type": "application/json", "user-agent": "Pier" },
        body: JSON.stringify(message),
        signal: AbortSignal.timeout(SEND_TIMEOUT_MS),
      });
      await res.body?.cancel();
      if (!res.ok) throw new Error(`it answered ${res.status}`);
      return "sent";
    } catch (error) {
      console.warn(`[pier] a "needs you" webhook (${maskUrl(url)}) failed: ${error instanceof Error ? error.message : String(error)}`);
      return "failed";
    }
  }

  private async urlOf(userId: string): Promise<string | null> {
    const row = this.deps.db.select({ url: attentionWebhooks.url }).from(attentionWebhooks).where(eq(attentionWebhooks.userId, userId)).get();
    return row ? this.deps.box.open(row.url) : null;
  }

  /** Where Pier would post for this URL, or why it will not (one sentence). */
  private async check(text: string): Promise<{ destination: Destination } | { problem: string }> {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      return { problem: "Webhook URL must be a full http or https URL." };
    }
    if (text.length > MAX_URL || /[\s\x00-\x1f\x7f]/.test(text)) return { problem: `Webhook URL must be at most ${MAX_URL} characters with no spaces.` };
    if (url.protocol !== "https:" && url.protocol !== "http:") return { problem: "Webhook URL must be a full http or https URL." };
    if (url.username || url.password) return { problem: "Webhook URL must not carry a user name or password." };
    return sentenceFor(await checkDestination(url, { allowPrivate: this.deps.allowPrivate, resolve: this.deps.resolve ?? systemResolve }));
  }
}

function sentenceFor(checked: Checked): { destination: Destination } | { problem: string } {
  if ("unknownHost" in checked) return { problem: `Webhook URL's host ${checked.unknownHost} cannot be found.` };
  if ("notPublic" in checked) {
    return { problem: `Webhook URL points at this machine or a private network (${checked.notPublic}); an admin can allow that with PIER_WEBHOOK_ALLOW_PRIVATE=1.` };
  }
  return checked;
}

function maskUrl(url: string): string {
  try {
    const { protocol, host } = new URL(url);
    return `${protocol}//${host}/••••`;
  } catch {
    return "••••";
  }
}
