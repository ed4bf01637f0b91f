/**
 * The close codes Pier gives a session's WebSockets (terminal, chat), shared by the server and
 * the browser, which stops reconnecting on either.
 */

/** The session ended: there is nothing to reconnect to, ever. */
export const SESSION_ENDED_CODE = 4001;

/** The sign-in or API token the socket was opened with ended (signed out, revoked). */
export const CREDENTIAL_ENDED_CODE = 4401;
