import Docker from "dockerode";
import type { RuntimeChoice } from "../infra/config.ts";

export type RuntimeKind = "docker" | "local";

/** Whether a Docker engine answers on DOCKER_HOST (or the default socket) within the timeout. */
export async function dockerReachable(timeoutMs = 2000): Promise<boolean> {
  const ping = new Docker().ping().then(
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
export async function chooseRuntime(choice: RuntimeChoice): Promise<RuntimeKind> {
  if (choice === "local") return "local";
  const reachable = await dockerReachable();
  if (reachable) return "docker";
  if (choice === "docker") {
    throw new Error("PIER_RUNTIME is docker but no Docker engine answers; start one or set DOCKER_HOST.");
  }
  return "local";
}
