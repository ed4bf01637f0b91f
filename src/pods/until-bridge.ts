/**
 * THE SWITCH the bridge branch removes (issue 29): until `pier-bridge` carries a pod's sockets
 * (services, holder, relay) over the engine's exec stream, a pod on another Docker engine still
 * bind-mounts its services directory, read-only, at SERVICES_BIND_IN_POD (never at its own path,
 * where Pier writes the pod's files into the pod), and its files include links from the sockets'
 * and the server-placed programs' usual paths to it. Set to false (and delete this file with what
 * reads it) once the bridge has landed: such a pod then mounts nothing of Pier's data dir, as
 * tests/pods/remote-pod-disk.test.ts asserts.
 */
export const SERVICES_DIR_BOUND_UNTIL_BRIDGE = true;

/** Where the services directory is bound in a pod on another engine while the switch is on. */
export const SERVICES_BIND_IN_POD = "/run/pier-services";
