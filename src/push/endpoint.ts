import { type Destination, type Resolve, checkDestination } from "../infra/destination.ts";
import { whyNotPublic } from "../infra/public-address.ts";

export const MAX_ENDPOINT_LENGTH = 2048;

/** Why not, as a sentence; `passing` when it may be otherwise later (a name not found now). */
export interface EndpointProblem {
  problem: string;
  passing?: true;
}

/**
 * Where Pier would send a push for this endpoint, or why it will not (one sentence). A push
 * endpoint is a URL a browser (so a person) hands Pier, and Pier posts to it from the server, so
 * it is judged like a webhook: checked when saved and again at each send, a name resolved once and
 * the post sent to the very address checked, never to this machine or a private network unless
 * the admin allows it (PIER_PUSH_ALLOW_PRIVATE, for a push service on the LAN, and the tests).
 * Push services speak https; plain http is taken only where private addresses are allowed, and
 * only to one.
 */
export async function checkEndpoint(text: string, options: { allowPrivate: boolean; resolve: Resolve }): Promise<{ destination: Destination } | EndpointProblem> {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { problem: "The endpoint must be the full https URL of the browser's push subscription." };
  }
  if (text.length > MAX_ENDPOINT_LENGTH || /[\s\x00-\x1f\x7f]/.test(text)) return { problem: `The endpoint must be at most ${MAX_ENDPOINT_LENGTH} characters with no spaces.` };
  if (url.protocol !== "https:" && !(url.protocol === "http:" && options.allowPrivate)) {
    return { problem: "The endpoint must be an https URL (plain http is taken only for a push service on a private network, with PIER_PUSH_ALLOW_PRIVATE=1)." };
  }
  if (url.username || url.password) return { problem: "The endpoint must not carry a user name or password." };
  const checked = await checkDestination(url, { allowPrivate: options.allowPrivate, resolve: options.resolve });
  if ("unknownHost" in checked) return { problem: `The endpoint's host ${checked.unknownHost} cannot be found.`, passing: true };
  if ("notPublic" in checked) {
    return { problem: `The endpoint points at this machine or a private network (${checked.notPublic}); an admin can allow that with PIER_PUSH_ALLOW_PRIVATE=1.` };
  }
  if (url.protocol === "http:" && whyNotPublic(checked.destination.address) === null) {
    return { problem: "The endpoint must be an https URL: plain http is taken only to this machine or a private network." };
  }
  return checked;
}
