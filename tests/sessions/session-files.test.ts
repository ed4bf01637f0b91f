import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalRuntime } from "../../src/runtime/local-runtime.ts";
import { Workspace } from "../../src/workspaces/workspace.ts";
import { gitAt, makeRemoteRepo } from "../support/git-fixtures.ts";

/**
 * Pier's own files in a worktree (.mcp.json, skills), written through the runtime by the same
 * script sessions use: never in git, removed when no longer given, and a repo's own tracked file wins.
 */
describe("Pier's files in a worktree", () => {
  const root = mkdtempSync(join(tmpdir(), "pier-session-files-"));
  const remote = makeRemoteRepo("filed");
  const clone = join(root, "clone.git");
  const worktree = join(root, "wt");
  gitAt(root, "clone", "--quiet", "--bare", remote.path, clone);
  gitAt(clone, "worktree", "add", "--quiet", worktree, "main");
  gitAt(worktree, "config", "user.name", "T");
  gitAt(worktree, "config", "user.email", "t@example.com");
  const workspace = new Workspace({ runtime: new LocalRuntime(), pod: { id: "local", image: "local" }, cwd: root, gitConfig: "/dev/null" }, { clone, mirror: remote.path, credentialHelper: "true" });
  const status = () => gitAt(worktree, "status", "--porcelain", "--untracked-files=all");
  const skill = (name: string) => `.claude/skills/${name}/SKILL.md`;

  test("written out of git's sight, updated, and removed (with their directories) once no longer given", async () => {
    await workspace.syncFiles(worktree, [
      { path: ".mcp.json", content: '{"mcpServers":{}}\n' },
      { path: skill("release-notes"), content: "---\nname: release-notes\n---\n# Notes ✓\n" },
      { path: skill("tidy"), content: "# Tidy\n" },
    ]);
    expect(readFileSync(join(worktree, skill("release-notes")), "utf8")).toBe("---\nname: release-notes\n---\n# Notes ✓\n");
    expect(readFileSync(join(worktree, ".mcp.json"), "utf8")).toBe('{"mcpServers":{}}\n');
    expect(status()).toBe("");

    // The person's own file beside Pier's stays when Pier's go.
    writeFileSync(join(worktree, ".claude", "settings.local.json"), "{}\n");
    await workspace.syncFiles(worktree, [{ path: skill("tidy"), content: "# Tidy, again\n" }]);
    expect(readFileSync(join(worktree, skill("tidy")), "utf8")).toBe("# Tidy, again\n");
    expect(existsSync(join(worktree, skill("release-notes")))).toBe(false);
    expect(existsSync(join(worktree, ".claude", "skills", "release-notes"))).toBe(false);
    expect(existsSync(join(worktree, ".mcp.json"))).toBe(false);
    expect(existsSync(join(worktree, ".claude", "settings.local.json"))).toBe(true);

    await workspace.syncFiles(worktree, []);
    expect(existsSync(join(worktree, ".claude", "skills"))).toBe(false);
    expect(status()).toBe("?? .claude/settings.local.json");
    gitAt(worktree, "add", "--all");
    expect(gitAt(worktree, "diff", "--cached", "--name-only")).toBe(".claude/settings.local.json");
    gitAt(worktree, "reset", "--quiet");
  });

  test("what the pod wrote into Pier's list, or a blank line in info/exclude, makes Pier remove nothing but its own files", async () => {
    await workspace.syncFiles(worktree, [{ path: ".mcp.json", content: "{}\n" }]);
    writeFileSync(join(worktree, "notes.txt"), "the person's own\n");
    const list = join(gitAt(worktree, "rev-parse", "--absolute-git-dir"), "pier-files");
    writeFileSync(list, `${readFileSync(list, "utf8")}notes.txt\n\nREADME.md\n`);
    writeFileSync(join(clone, "info", "exclude"), `${readFileSync(join(clone, "info", "exclude"), "utf8")}\n\n`);
    await workspace.syncFiles(worktree, []);
    expect(existsSync(join(worktree, ".mcp.json"))).toBe(false);
    expect(readFileSync(join(worktree, "notes.txt"), "utf8")).toBe("the person's own\n");
    expect(existsSync(join(worktree, "README.md"))).toBe(true);
    rmSync(join(worktree, "notes.txt"));
  });

  test("a file the repository tracks is left alone and reported; Pier writes nothing outside its own paths", async () => {
    mkdirSync(join(worktree, ".claude", "skills", "deploy"), { recursive: true });
    writeFileSync(join(worktree, skill("deploy")), "# The repo's own deploy skill\n");
    gitAt(worktree, "add", skill("deploy"));
    gitAt(worktree, "commit", "--quiet", "-m", "Our deploy skill");
    const { kept } = await workspace.syncFiles(worktree, [{ path: skill("deploy"), content: "# Pier's deploy skill\n" }]);
    expect(kept).toEqual([skill("deploy")]);
    expect(readFileSync(join(worktree, skill("deploy")), "utf8")).toBe("# The repo's own deploy skill\n");
    await workspace.syncFiles(worktree, []);
    expect(existsSync(join(worktree, skill("deploy")))).toBe(true);

    for (const path of ["../escape", ".claude/skills/../../x/SKILL.md", ".git/config", ".claude/skills/Caps/SKILL.md"]) {
      await expect(workspace.syncFiles(worktree, [{ path, content: "x" }])).rejects.toThrow("Pier does not write");
    }
    expect(existsSync(join(root, "escape"))).toBe(false);
  });
});
