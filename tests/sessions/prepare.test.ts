import { describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalRuntime } from "../../src/runtime/local-runtime.ts";
import { type PrepareInput, Workspace } from "../../src/workspaces/workspace.ts";
import { gitAt, makeRemoteRepo } from "../support/git-fixtures.ts";

/**
 * Readying a worktree starts in the pod while the mirror is still being fetched: the script waits
 * there, touches nothing until the fetch is done, and nothing at all when it failed.
 */
describe("preparing a session's worktree while the mirror is fetched", () => {
  const root = mkdtempSync(join(tmpdir(), "pier-prepare-"));
  // The remote's bare repository stands in for the mirror: its branches are refs/heads/*.
  const mirror = makeRemoteRepo("prepared").path;
  const clone = join(root, "clone.git");
  const workspace = new Workspace({ runtime: new LocalRuntime(), pod: { id: "local", image: "local" }, cwd: root, gitConfig: "/dev/null" }, { clone, mirror, credentialHelper: "true" });
  const input = (name: string, mirrorFetched: Promise<unknown>): PrepareInput => ({
    url: mirror,
    worktree: join(root, name),
    branch: `pier/t/${name}`,
    createdBranch: true,
    baseRef: "origin/main",
    baseSha: null,
    identity: { name: "t", email: "t@users.pier.local" },
    files: [{ path: ".mcp.json", content: "{}\n" }],
    mirrorFetched,
  });

  test("nothing is touched until the fetch is done; then the worktree is made off the base it fetched", async () => {
    let fetched: () => void = () => {};
    const preparing = workspace.prepare(input("first", new Promise<void>((resolve) => (fetched = resolve))));
    await Bun.sleep(300);
    expect(existsSync(clone)).toBe(false);
    expect(existsSync(join(root, "first"))).toBe(false);

    fetched();
    const prepared = await preparing;
    expect(prepared.cloned).toBe(true);
    expect(prepared.baseSha).toBe(gitAt(mirror, "rev-parse", "refs/heads/main"));
    expect(gitAt(join(root, "first"), "rev-parse", "HEAD")).toBe(prepared.baseSha!);
    expect(gitAt(join(root, "first"), "rev-parse", "--abbrev-ref", "HEAD")).toBe("pier/t/first");
    expect(readFileSync(join(root, "first", ".mcp.json"), "utf8")).toBe("{}\n");
    expect(gitAt(join(root, "first"), "config", "user.email")).toBe("t@users.pier.local");
  });

  test("the script never reads the person's ~/.bashrc, though its input is a stream", async () => {
    const home = mkdtempSync(join(tmpdir(), "pier-prepare-home-"));
    writeFileSync(join(home, ".bashrc"), `touch ${join(home, "bashrc-was-read")}\n`);
    const ownHome = process.env.HOME;
    process.env.HOME = home;
    try {
      await workspace.prepare(input("third", Promise.resolve()));
    } finally {
      process.env.HOME = ownHome;
    }
    expect(existsSync(join(root, "third", ".git"))).toBe(true);
    expect(existsSync(join(home, "bashrc-was-read"))).toBe(false);
  });

  test("a failed fetch fails the preparation with the fetch's own error, and nothing is made", async () => {
    const failure = new Error("fatal: could not read from the remote repository");
    await expect(workspace.prepare(input("second", Promise.reject(failure)))).rejects.toBe(failure);
    expect(existsSync(join(root, "second"))).toBe(false);
    expect(gitAt(clone, "branch", "--list", "pier/t/second")).toBe("");
  });
});
