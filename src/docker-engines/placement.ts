import { AppError } from "../infra/errors.ts";
import { type DockerEngine, LOCAL_ENGINE } from "./docker-engines.ts";

/** What a repo says about where its pods go (see PodSpec.placement). */
export interface PlacementWish {
  /** The engine it is pinned to (an id), or null. */
  dockerEngine: string | null;
  /** Labels an engine must all carry. */
  labels: string[];
}

/**
 * Where a new pod goes: the repo's pinned engine; else, among the engines carrying all the repo's
 * labels that are not draining, the one with the most room (capacity less the pods already there),
 * the local engine on a tie. Capacity is a preference, not a wall: when every candidate is full
 * the pod still goes to the least full, rather than a session failing on a busy but working team.
 */
export function placePod(wish: PlacementWish, engines: DockerEngine[], podCounts: Map<string, number>): DockerEngine {
  if (wish.dockerEngine !== null) {
    const pinned = engines.find((engine) => engine.id === wish.dockerEngine);
    if (!pinned) throw new AppError(503, "engine_missing", "The repository is pinned to a Docker engine that is no longer configured; an admin can pin it to another.");
    if (pinned.draining) throw new AppError(503, "engine_draining", `The repository is pinned to the Docker engine ${pinned.name}, which is draining and takes no new pods; an admin can pin it elsewhere.`);
    return pinned;
  }
  const candidates = engines.filter((engine) => !engine.draining && wish.labels.every((label) => engine.labels.includes(label)));
  if (candidates.length === 0) {
    const what = wish.labels.length > 0 ? `carries the labels ${wish.labels.join(", ")} and ` : "";
    throw new AppError(503, "no_engine", `No Docker engine ${what}takes new pods (the others are draining); an admin can add one or stop draining one.`);
  }
  const room = (engine: DockerEngine) => engine.capacity - (podCounts.get(engine.id) ?? 0);
  return candidates.reduce((best, engine) => (room(engine) > room(best) || (room(engine) === room(best) && engine.id === LOCAL_ENGINE) ? engine : best));
}
