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

/**
 * Pier is stopping to restart (WebSocket's own "Service Restart"): the page says so and
 * reconnects by itself once Pier is back.
 */
export const SERVER_RESTARTING_CODE = 1012;

/**
 * The close reason that tells Pier's own restart from a pod's (both close with 1012): only this
 * one has the page say "Pier is restarting".
 */
export const SERVER_RESTARTING_REASON = "Pier is restarting";

/** The text frame a session's sockets get just before they close with SERVER_RESTARTING_CODE. */
export const RESTARTING_MESSAGE = JSON.stringify({ type: "restarting", message: "Pier is restarting; this page reconnects by itself." });
