/**
 * The agents Pier ships, against their real documents on the npm registry (kept in the shared tools
 * directory once read): each pinned version exists and installs the program Pier names, and the
 * build Pier would supply is the right one for each kind of machine: opencode's and Codex's
 * platform builds by CPU, C library and (for opencode) AVX2, Gemini CLI and Claude Code's adapter
 * as Node programs.
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { buildFor, nativeBuilds, packageProgram, programInBuild } from "../../src/agents/agent-plan.ts";
import { PackageDocs } from "../../src/agents/package-docs.ts";
import { SHIPPED_AGENTS } from "../../src/agents/shipped.ts";
import type { PackageVersion } from "../../src/npm/registry.ts";
import { NPM_REGISTRY, TEST_CACHE } from "../support/claude-code.ts";

const docs = new PackageDocs(NPM_REGISTRY, join(TEST_CACHE, "agents", "registry"));
const shipped = (id: string) => SHIPPED_AGENTS.find((agent) => agent.id === id)!;
const docOf = async (id: string): Promise<PackageVersion> => {
  const agent = shipped(id);
  const doc = await docs.version(agent.package!, agent.version!);
  if (!doc) throw new Error(`the registry has no ${agent.package} ${agent.version}`);
  return doc;
};

const machines = {
  x64: { machine: "x86_64", musl: false, avx2: true },
  x64Baseline: { machine: "x86_64", musl: false, avx2: false },
  x64Musl: { machine: "x86_64", musl: true, avx2: true },
  x64MuslBaseline: { machine: "x86_64", musl: true, avx2: false },
  arm64: { machine: "aarch64", musl: false, avx2: false },
  arm64Musl: { machine: "aarch64", musl: true, avx2: false },
  riscv: { machine: "riscv64", musl: false, avx2: false },
};

describe("the shipped agents on the registry", () => {
  test("each pinned version is on the registry and installs the program Pier names", async () => {
    for (const agent of SHIPPED_AGENTS) {
      const doc = await docOf(agent.id);
      expect({ id: agent.id, program: packageProgram(doc) }).toEqual({ id: agent.id, program: agent.program });
    }
  }, 60_000);

  test("opencode is its platform build for the machine, C library and CPU, at the same version", async () => {
    const builds = nativeBuilds(await docOf("opencode"), "opencode");
    const version = shipped("opencode").version!;
    const chosen = Object.fromEntries(Object.entries(machines).map(([name, platform]) => [name, buildFor(builds, platform)]));
    expect(chosen).toEqual({
      x64: { name: "opencode-linux-x64", version },
      x64Baseline: { name: "opencode-linux-x64-baseline", version },
      x64Musl: { name: "opencode-linux-x64-musl", version },
      x64MuslBaseline: { name: "opencode-linux-x64-baseline-musl", version },
      arm64: { name: "opencode-linux-arm64", version },
      arm64Musl: { name: "opencode-linux-arm64-musl", version },
      riscv: null,
    });
    // The build for this machine holds the program at bin/opencode (it names no bin of its own).
    const build = (await docs.version("opencode-linux-x64", version))!;
    expect(programInBuild(build, "opencode")).toBe("bin/opencode");
  }, 60_000);

  test("Codex's adapter is its platform build (glibc only), whose bin names the program", async () => {
    const builds = nativeBuilds(await docOf("codex"), "codex-acp");
    const version = shipped("codex").version!;
    expect(buildFor(builds, machines.x64)).toEqual({ name: "@zed-industries/codex-acp-linux-x64", version });
    expect(buildFor(builds, machines.arm64)).toEqual({ name: "@zed-industries/codex-acp-linux-arm64", version });
    expect(buildFor(builds, machines.x64Musl)).toBeNull();
    const build = (await docs.version("@zed-industries/codex-acp-linux-x64", version))!;
    expect(programInBuild(build, "codex-acp")).toBe("bin/codex-acp");
  }, 60_000);

  test("Gemini CLI and Claude Code's adapter are Node programs (their native optional dependencies are only dependencies)", async () => {
    const gemini = await docOf("gemini");
    expect(Object.keys(gemini.optionalDependencies)).toContain("@lydell/node-pty-linux-x64");
    expect(nativeBuilds(gemini, "gemini").size).toBe(0);
    expect(gemini.bin.gemini).toBe("bundle/gemini.js");
    const claude = await docOf("claude-code");
    expect(nativeBuilds(claude, "claude-agent-acp").size).toBe(0);
    expect(claude.node).toBe(">=22");
  }, 60_000);
});
