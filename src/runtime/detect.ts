import Docker from "dockerode";
import type { RuntimeChoice } from "../infra/config.ts";

export type RuntimeKind = "docker" | "local";

/**
 * The client for the engine at `dockerHost` (Pier's DOCKER_HOST). A Unix socket is given to
 * dockerode as it is; any other address (tcp, ssh, TLS with DOCKER_CERT_PATH) is left to
 * dockerode's own reading of the environment, which knows every form the docker CLI does.
 */
export function dockerClient(dockerHost: string | null): Docker {
  if (dockerHost?.startsWith("unix://")) return new Docker({ socketPath: dockerHost.slice("unix://".length) });
  return new Docker();
}

/** Whether the engine answers within the timeout. */
export async function dockerReachable(docker: Docker, timeoutMs = 2000): Promise<boolean> {
  const ping = docker.ping().then(
    () => true,
    () => false,
  );
  const timeout = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), timeoutMs).unref());
  return Promise.race([ping, timeout]);
}

/**
 * Picks where sessions run. "auto" prefers Docker when an engine answers; asking for "docker"
 * without one is a start-up error rather than a silent fall-back to unisolated local shells.
 */
export async function chooseRuntime(choice: RuntimeChoice, docker: Docker): Promise<RuntimeKind> {
  if (choice === "local") return "local";
  const reachable = await dockerReachable(docker);
  if (reachable) return "docker";
  if (choice === "docker") {
    throw new Error("PIER_RUNTIME is docker but no Docker engine answers; start one or set DOCKER_HOST.");
  }
  return "local";
}
