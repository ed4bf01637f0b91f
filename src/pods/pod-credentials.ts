import { and, eq } from "drizzle-orm";
import { generateToken, hashToken } from "../auth/sign-ins.ts";
import type { Db } from "../infra/db.ts";
import { type PodKey, podKeyString } from "../runtime/runtime.ts";
import { podCredentials } from "./tables.ts";

/** What every pod credential starts with, so a token of another kind is refused before any lookup. */
const PREFIX = "pier_pod_";

/** The username a pod's git sends with its credential (HTTP Basic); only the password is checked. */
export const POD_CREDENTIAL_USERNAME = "pier-pod";

/**
 * Each pod's credential for the read-only smart HTTP of its repo's mirror (/git/<repo id>.git),
 * which a pod on another machine fetches from instead of a bind mount. One per pod, random, stored
 * only as SHA-256, good for that pod's repo alone and for nothing else of Pier's. It is made the
 * first time the pod's credential helper asks, handed to the pod's git over its services socket
 * at the moment of use (never in a file or an argument), and deleted when the pod is removed.
 *
 * Only this process knows the credential itself (the table has its hash), so asking again gives
 * the same one while Pier runs; after a restart the first ask makes a fresh one, replacing the
 * old, so a pod has at most one that works.
 */
export class PodCredentials {
  private held = new Map<string, { credential: string; hash: string }>();

  constructor(private db: Db) {}

  /** The pod's credential: the one handed out before while it is still stored, else a fresh one. */
  for(key: PodKey): string {
    const id = podKeyString(key);
    const held = this.held.get(id);
    if (held && this.storedHash(key) === held.hash) return held.credential;
    const credential = PREFIX + generateToken();
    const hash = hashToken(credential);
    const createdAt = new Date();
    this.db
      .insert(podCredentials)
      .values({ ...key, credentialHash: hash, createdAt })
      .onConflictDoUpdate({ target: [podCredentials.repoId, podCredentials.userId], set: { credentialHash: hash, createdAt } })
      .run();
    this.held.set(id, { credential, hash });
    return credential;
  }

  /** The pod a credential is for, or null for a missing, malformed, unknown or revoked one. */
  podOf(credential: string | null): PodKey | null {
    if (!credential?.startsWith(PREFIX)) return null;
    const row = this.db
      .select({ repoId: podCredentials.repoId, userId: podCredentials.userId })
      .from(podCredentials)
      .where(eq(podCredentials.credentialHash, hashToken(credential)))
      .get();
    return row ?? null;
  }

  /** The pod was removed: its credential stops working at once. */
  revoke(key: PodKey): void {
    this.held.delete(podKeyString(key));
    this.db.delete(podCredentials).where(this.where(key)).run();
  }

  private storedHash(key: PodKey): string | null {
    return this.db.select({ hash: podCredentials.credentialHash }).from(podCredentials).where(this.where(key)).get()?.hash ?? null;
  }

  private where(key: PodKey) {
    return and(eq(podCredentials.repoId, key.repoId), eq(podCredentials.userId, key.userId));
  }
}
