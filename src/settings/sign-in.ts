/**
 * What a person is told when the Anthropic API refuses the credential Pier sends for them: said
 * by Pier's gateway to Claude Code (which shows it) and recognised by the chat engine in what
 * Claude Code reports, so the session shows it once, with a link to where a new token is saved.
 */

/** Where a person saves their own Claude subscription token (Your credentials, on the Tokens page). */
export const TOKENS_URL = "/tokens";

/** The sentence for a refused Claude subscription token (expired or revoked). */
export const SIGN_IN_EXPIRED = "Your Claude sign-in has expired: paste a new token under Your credentials on the Tokens page, then send your message again.";

/** The sentence for a refused API key. */
export const KEY_REFUSED = "The Anthropic API refused the API key Pier sent for you: save a working key under Your credentials on the Tokens page (or ask an admin to fix the instance's), then send your message again.";
