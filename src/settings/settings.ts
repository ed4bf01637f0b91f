import { inArray } from "drizzle-orm";
import type { Config } from "../infra/config.ts";
import type { Db } from "../infra/db.ts";
import { invalid } from "../infra/errors.ts";
import type { Input } from "../infra/input.ts";
import type { SecretBox } from "../infra/secret-box.ts";
import { settings } from "./tables.ts";

/**
 * Instance-wide settings. Secrets are sealed before they are stored and are never handed back
 * to a client: reads show a mask and where the value comes from (settings or the environment).
 */
export const SECRET_KEYS = ["anthropicApiKey", "githubToken"] as const;
export type SecretKey = (typeof SECRET_KEYS)[number];

const SECRET_LABELS: Record<SecretKey, string> = {
  anthropicApiKey: "Anthropic API key",
  githubToken: "GitHub token",
};
const ENV_FALLBACK: Record<SecretKey, (config: Config) => string | null> = {
  anthropicApiKey: (config) => config.anthropicApiKey,
  githubToken: (config) => config.githubToken,
};

export const DEFAULT_MODEL = "claude-sonnet-4-5";
const MODEL_ID = /^[a-z0-9][a-z0-9.-]{1,99}$/;
const MAX_SECRET_LENGTH = 1000;

export interface MaskedSecret {
  set: boolean;
  /** Bullets plus the last four characters of a long secret, or null when none is set. */
  mask: string | null;
  source: "settings" | "environment" | null;
}

export interface SettingsView {
  anthropicApiKey: MaskedSecret;
  githubToken: MaskedSecret;
  defaultModel: string;
}

export class SettingsStore {
  constructor(
    private db: Db,
    private box: SecretBox,
    private config: Config,
  ) {}

  async view(): Promise<SettingsView> {
    const stored = this.readAll();
    const masked = async (key: SecretKey): Promise<MaskedSecret> => {
      const sealed = stored.get(key);
      if (sealed) return { set: true, mask: mask(await this.box.open(sealed)), source: "settings" };
      const fromEnv = ENV_FALLBACK[key](this.config);
      return fromEnv ? { set: true, mask: mask(fromEnv), source: "environment" } : { set: false, mask: null, source: null };
    };
    return {
      anthropicApiKey: await masked("anthropicApiKey"),
      githubToken: await masked("githubToken"),
      defaultModel: stored.get("defaultModel") ?? DEFAULT_MODEL,
    };
  }

  /** The plain secret for server-side use (never for rendering): settings first, then the environment. */
  async secret(key: SecretKey): Promise<string | null> {
    const sealed = this.readAll().get(key);
    return sealed ? this.box.open(sealed) : ENV_FALLBACK[key](this.config);
  }

  /**
   * Applies a partial update. A field left out is unchanged; an empty secret clears it.
   * Everything is checked before anything is written.
   */
  async update(input: Input): Promise<SettingsView> {
    const writes = new Map<string, string>();
    const clears: string[] = [];
    for (const key of SECRET_KEYS) {
      const value = input[key];
      if (value === undefined) continue;
      if (value === null || value === "") {
        clears.push(key);
        continue;
      }
      if (typeof value !== "string" || value.length > MAX_SECRET_LENGTH || /[\s\x00-\x1f\x7f]/.test(value)) {
        throw invalid(key, `${SECRET_LABELS[key]} must be text of at most ${MAX_SECRET_LENGTH} characters with no spaces.`);
      }
      writes.set(key, value);
    }
    const model = input.defaultModel;
    if (model !== undefined && model !== "") {
      if (typeof model !== "string" || !MODEL_ID.test(model)) {
        throw invalid("defaultModel", "Default model must be a model id such as claude-sonnet-4-5.");
      }
      writes.set("defaultModel", model);
    }
    const sealed = new Map<string, string>();
    for (const [key, value] of writes) {
      sealed.set(key, (SECRET_KEYS as readonly string[]).includes(key) ? await this.box.seal(value) : value);
    }
    const updatedAt = new Date();
    this.db.transaction((tx) => {
      if (clears.length) tx.delete(settings).where(inArray(settings.key, clears)).run();
      for (const [key, value] of sealed) {
        tx.insert(settings)
          .values({ key, value, updatedAt })
          .onConflictDoUpdate({ target: settings.key, set: { value, updatedAt } })
          .run();
      }
    });
    return this.view();
  }

  private readAll(): Map<string, string> {
    return new Map(this.db.select().from(settings).all().map((row) => [row.key, row.value]));
  }
}

function mask(secret: string): string {
  return secret.length >= 16 ? "••••••••" + secret.slice(-4) : "••••••••";
}
