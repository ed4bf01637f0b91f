import type { PreviewAccess, Refusal } from "./preview-access.ts";

const CLOSED: Refusal = {
  ok: false,
  status: 403,
  code: "previews_closed",
  message: "Previews are closed on this Pier: who may see them is not decided here yet.",
  reopen: null,
};

/**
 * The access Pier's preview listener has while the access rules (grants, shares) are not part
 * of this build: no Host is a preview, no grant, share or cookie is taken, so the listener
 * answers 404 or 403 to everything and never reaches a pod. Never admits anyone.
 */
export class ClosedPreviewAccess implements PreviewAccess {
  parseHost(): null {
    return null;
  }

  redeemGrant(): Refusal {
    return CLOSED;
  }

  redeemShare(): Refusal {
    return CLOSED;
  }

  admit(): Refusal {
    return CLOSED;
  }
}
