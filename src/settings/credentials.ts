import { and, eq, inArray } from "drizzle-orm";
import { type Actor, assertPerson } from "../auth/actor.ts";
import type { Db } from "../infra/db.ts";
import { invalid } from "../infra/errors.ts";
import type { Input } from "../infra/input.ts";
import type { SecretBox } from "../infra/secret-box.ts";
import type { AuditLog } from "../audit/audit-log.ts";
import { type MaskedSecret, SECRET_MASK, type SecretKey, type SettingsStore, isSecretText, mask, secretProblem } from "./settings.ts";
import { personalCredentials } from "./tables.ts";

/** What a person may keep of their own: each wins over the instance's in their sessions. */
export const PERSONAL_KEYS = ["anthropicApiKey", "claudeCodeOauthToken", "openaiApiKey", "geminiApiKey", "githubToken"] as const;
export type PersonalKey = (typeof PERSONAL_KEYS)[number];

const LABELS: Record<PersonalKey, string> = {
  anthropicApiKey: "Anthropic API key",
  claudeCodeOauthToken: "Claude Code OAuth token",
  openaiApiKey: "OpenAI API key",
  geminiApiKey: "Gemini API key",
  githubToken: "GitHub token",
};

/** The services besides Anthropic whose API keys a person or the instance may keep, and the key of each. */
const SERVICE_KEYS = { openai: "openaiApiKey", gemini: "geminiApiKey" } as const satisfies Record<string, PersonalKey & SecretKey>;

/** A credential for the Anthropic API: an API key (x-api-key), or a Claude subscription's OAuth token (Bearer). */
export interface AnthropicCredential {
  kind: "apiKey" | "oauth";
  value: string;
}

/** Each credential as a person sees theirs: masked (the instance's as the fixed mask), and where the one in use comes from. */
export type PersonalCredentialsView = Record<PersonalKey, Omit<MaskedSecret, "source"> & { source: "yours" | MaskedSecret["source"] }>;

/**
 * The credentials Pier uses for a person: their own where they set one (sealed at rest, like
 * settings, and never shown back), else the instance's. Only the person themself can see (masked)
 * or change theirs; an agent acting for them cannot.
 */
export class Credentials {
  constructor(
    private db: Db,
    private box: SecretBox,
    private settings: SettingsStore,
    private audit: AuditLog,
  ) {}

  /** The GitHub token for work done for this person. */
  async githubToken(userId: string): Promise<string | null> {
    return (await this.own(userId, "githubToken")) ?? (await this.settings.secret("githubToken"));
  }

  /** The Anthropic API key for this person's sessions. */
  async anthropicApiKey(userId: string): Promise<string | null> {
    return (await this.own(userId, "anthropicApiKey")) ?? (await this.settings.secret("anthropicApiKey"));
  }

  /**
   * What Claude Code's model requests go out with for this person: their own credential before the
   * instance's, and at each level a Claude subscription token (Claude Code's own way to pay) before
   * an API key. Null when none is set.
   */
  async anthropicFor(userId: string): Promise<AnthropicCredential | null> {
    const own = (await this.own(userId, "claudeCodeOauthToken")) ?? null;
    if (own) return { kind: "oauth", value: own };
    const ownKey = await this.own(userId, "anthropicApiKey");
    if (ownKey) return { kind: "apiKey", value: ownKey };
    const instance = await this.settings.secret("claudeCodeOauthToken");
    if (instance) return { kind: "oauth", value: instance };
    const instanceKey = await this.settings.secret("anthropicApiKey");
    return instanceKey ? { kind: "apiKey", value: instanceKey } : null;
  }

  /** The API key of the OpenAI or the Gemini API for this person's sessions: theirs before the instance's. */
  async serviceKey(userId: string, service: keyof typeof SERVICE_KEYS): Promise<string | null> {
    const key = SERVICE_KEYS[service];
    return (await this.own(userId, key)) ?? (await this.settings.secret(key));
  }

  async view(actor: Actor): Promise<PersonalCredentialsView> {
    this.assertPerson(actor);
    const instance = await this.settings.view();
    const view = {} as PersonalCredentialsView;
    for (const key of PERSONAL_KEYS) {
      const own = await this.own(actor.user.id, key);
      const fallback = instance[key];
      // The instance's is the admins' to keep (settings show them its hint): here nothing of it shows, to anyone.
      view[key] = own
        ? { set: true, mask: mask(own), source: "yours" }
        : fallback?.set
          ? { set: true, mask: SECRET_MASK, source: fallback.source }
          : { set: false, mask: null, source: null };
    }
    return view;
  }

  /** Sets or clears ("" or null) the actor's own credentials; the others stay as they are. */
  async update(actor: Actor, input: Input): Promise<PersonalCredentialsView> {
    this.assertPerson(actor);
    const writes = new Map<PersonalKey, string>();
    const clears: PersonalKey[] = [];
    for (const key of PERSONAL_KEYS) {
      const value = input[key];
      if (value === undefined) continue;
      if (value === null || value === "") clears.push(key);
      else if (!isSecretText(value)) throw invalid(key, secretProblem(LABELS[key]));
      else writes.set(key, await this.box.seal(value));
    }
    const userId = actor.user.id;
    const updatedAt = new Date();
    const cleared = this.db.transaction((tx) => {
      const gone = clears.length
        ? tx.delete(personalCredentials).where(and(eq(personalCredentials.userId, userId), inArray(personalCredentials.key, clears))).returning({ key: personalCredentials.key }).all()
        : [];
      for (const [key, value] of writes) {
        tx.insert(personalCredentials)
          .values({ userId, key, value, updatedAt })
          .onConflictDoUpdate({ target: [personalCredentials.userId, personalCredentials.key], set: { value, updatedAt } })
          .run();
      }
      return gone.map((row) => row.key as PersonalKey);
    });
    // Which of their credentials the person set or removed, never the value.
    for (const key of writes.keys()) this.audit.record(actor, "credential_changed", { kind: "credential", id: key, name: LABELS[key] }, { detail: "set" });
    for (const key of cleared) this.audit.record(actor, "credential_changed", { kind: "credential", id: key, name: LABELS[key] }, { detail: "cleared" });
    return this.view(actor);
  }

  private async own(userId: string, key: PersonalKey): Promise<string | null> {
    const row = this.db
      .select({ value: personalCredentials.value })
      .from(personalCredentials)
      .where(and(eq(personalCredentials.userId, userId), eq(personalCredentials.key, key)))
      .get();
    return row ? this.box.open(row.value) : null;
  }

  private assertPerson(actor: Actor): asserts actor is Extract<Actor, { kind: "person" }> {
    assertPerson(actor, "Only a person can see or change their own credentials.");
  }
}
