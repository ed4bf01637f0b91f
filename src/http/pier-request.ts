import type { PierRequest } from "../previews/previews.ts";
import type { Pier } from "../pier.ts";
import { secureCookies } from "./auth.ts";

/**
 * The origin the browser reached Pier on, for what Pier sends it elsewhere with (a preview's grant
 * names it; a share link takes its scheme): the Host it asked for, https when Pier is reached over
 * https (directly or, as its proxy says, through it), as for the sign-in cookie's Secure.
 */
export function pierRequestOf(pier: Pier, request: Request): PierRequest {
  const https = secureCookies(pier, request);
  return { origin: `${https ? "https" : "http"}://${new URL(request.url).host}`, https };
}
