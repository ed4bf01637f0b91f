import { eq } from "drizzle-orm";
import type { Db } from "../infra/db.ts";
import type { SecretBox } from "../infra/secret-box.ts";
import { pushServerKeys } from "./tables.ts";

/** A VAPID key pair as web-push takes it: both keys in base64url, the public one an uncompressed P-256 point. */
export interface VapidKeys {
  publicKey: string;
  privateKey: string;
}

const ROW_ID = "vapid";

/**
 * Pier's VAPID keys (RFC 8292), made the first time they are needed and kept for good: every
 * browser subscribed with the public key, and a push service refuses a push signed by another.
 * The private key is stored sealed and opened once per process.
 */
export class ServerKeys {
  private opened: Promise<VapidKeys> | null = null;

  constructor(private deps: { db: Db; box: SecretBox }) {}

  keys(): Promise<VapidKeys> {
    this.opened ??= this.loadOrMake().catch((error: unknown) => {
      this.opened = null;
      throw error;
    });
    return this.opened;
  }

  private async loadOrMake(): Promise<VapidKeys> {
    if (!this.stored()) {
      const { generateVAPIDKeys } = await import("web-push");
      const made = generateVAPIDKeys();
      const privateKey = await this.deps.box.seal(made.privateKey);
      // Two Piers on one database (a restart overlapping) keep whichever pair was written first.
      this.deps.db.insert(pushServerKeys).values({ id: ROW_ID, publicKey: made.publicKey, privateKey, createdAt: new Date() }).onConflictDoNothing().run();
    }
    const row = this.stored()!;
    return { publicKey: row.publicKey, privateKey: await this.deps.box.open(row.privateKey) };
  }

  private stored() {
    return this.deps.db.select().from(pushServerKeys).where(eq(pushServerKeys.id, ROW_ID)).get();
  }
}
