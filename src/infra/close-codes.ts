/**
 * The close codes Pier gives a session's WebSockets (terminal, chat), shared by the server and
 * the browser, which stops reconnecting on either.
 */

/** The session ended: there is nothing to reconnect to, ever. */
export const SESSION_ENDED_CODE = 4001;

/** The sign-in or API token the socket was opened with ended (signed out, revoked). */
export const CREDENTIAL_ENDED_CODE = 4401;

/**
 * The terminal's connection to its pod was lost (the pod or its engine restarted): the browser
 * reconnects as after any drop, and finds the terminal Pier opened again meanwhile (WebSocket's
 * own "service restart").
 */
export const POD_LOST_CODE = 1012;
