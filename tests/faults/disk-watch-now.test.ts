import { afterAll, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { DiskWatch } from "../../src/pods/disk-watch.ts";
import { LocalRuntime } from "../../src/runtime/local-runtime.ts";
import { SmallDisk } from "../support/small-disk.ts";

const MiB = 1024 * 1024;

/**
 * Broken: a disk that fills while Pier looks in the pods (a burst that outruns the look, as one
 * `fallocate` does) told its person how much had been free when the look began ("20 MiB free"),
 * though nothing was by then. Held: they are told how it stands once the look is done. The pod is
 * this machine (the local runtime); the disk is a tmpfs of the test's own.
 */
const disk = SmallDisk.mount(64);
afterAll(() => disk.unmount());

test("a disk filled while Pier looks in the pods is told as it stands after the look: 0 MiB free", async () => {
  const workspace = join(disk.path, "workspaces", "repo", "user");
  mkdirSync(workspace, { recursive: true });
  disk.fill(join(disk.path, "other-things"), 20 * MiB);
  const said: string[] = [];
  const noted: string[] = [];
  const watch = new DiskWatch({
    workspacesDir: join(disk.path, "workspaces"),
    reserveMb: 32,
    livePods: () => [{ key: { repoId: "repo", userId: "user" }, sessionIds: ["session"] }],
    runningShell: async () => {
      // The burst lands while Pier is on its way into the pod: the rest of the disk, at once.
      disk.fill(join(workspace, "big"));
      return { runtime: new LocalRuntime(), pod: { id: "local", image: "local" }, cwd: workspace, gitConfig: "/dev/null" };
    },
    sayInTerminals: (_ids, message) => said.push(message),
    notify: (_ids, message) => noted.push(message),
  });

  await watch.check();
  expect(disk.freeBytes()).toBeLessThan(MiB);
  expect(said).toHaveLength(1);
  expect(said[0]).toMatch(/^The disk of Pier's workspaces is nearly full \(0 MiB free; Pier keeps 32 MiB .*\)\. Your workspace holds (19|20) MiB, the most of anyone's: delete what you do not need\.$/);
  // Writing it down needs a byte of disk (here it needs none): their chat holds the same words.
  expect(noted).toEqual(said);
}, 30_000);
