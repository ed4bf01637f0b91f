import { type PreviewAccess, PreviewRefused } from "./preview-access.ts";

const CLOSED = "Previews are closed on this Pier: who may see them is not decided here yet.";

/**
 * The access Pier's preview listener has while the access rules (grants, shares) are not part
 * of this build: no Host is a preview, no grant, share or cookie is taken, so the listener
 * answers 404 or 403 to everything and never reaches a pod. Never admits anyone.
 */
export class ClosedPreviewAccess implements PreviewAccess {
  parseHost(): null {
    return null;
  }

  redeemGrant(): PreviewRefused {
    return new PreviewRefused(403, "previews_closed", CLOSED);
  }

  redeemShare(): PreviewRefused {
    return new PreviewRefused(403, "previews_closed", CLOSED);
  }

  admit(): PreviewRefused {
    return new PreviewRefused(403, "previews_closed", CLOSED);
  }
}
