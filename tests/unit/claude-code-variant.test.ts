import { expect, test } from "bun:test";
import { buildSentence } from "../../src/claude-code/builds.ts";
import { claudeCodeVariant } from "../../src/claude-code/variant.ts";

test("the build follows the pod's machine and C library", () => {
  expect(claudeCodeVariant("x86_64", false)).toBe("linux-x64");
  expect(claudeCodeVariant("x86_64", true)).toBe("linux-x64-musl");
  expect(claudeCodeVariant("aarch64", false)).toBe("linux-arm64");
  expect(claudeCodeVariant("aarch64", true)).toBe("linux-arm64-musl");
  // As some systems name them, and with the newline uname prints.
  expect(claudeCodeVariant("amd64\n", false)).toBe("linux-x64");
  expect(claudeCodeVariant("arm64", true)).toBe("linux-arm64-musl");
});

test("machines Claude Code has no build for get none", () => {
  for (const machine of ["armv7l", "i686", "riscv64", "s390x", "ppc64le", "", "x86_64; rm -rf /"]) {
    expect(claudeCodeVariant(machine, false)).toBeNull();
  }
});

test("a build's state is said as a sentence until it is ready", () => {
  const base = { version: "2.1.330", variant: "linux-x64" as const };
  expect(buildSentence({ ...base, state: "fetching", fraction: 0.456 })).toBe("Fetching Claude Code 2.1.330… 45 %");
  expect(buildSentence({ ...base, state: "fetching", fraction: null })).toBe("Fetching Claude Code 2.1.330…");
  expect(buildSentence({ ...base, state: "failed", error: "Claude Code 2.1.330 could not be fetched: offline.", at: 0 })).toBe(
    "Claude Code 2.1.330 could not be fetched: offline. Pier tries again when it is next needed.",
  );
  expect(buildSentence({ ...base, state: "ready", path: "/x" })).toBeNull();
  expect(buildSentence(null)).toBeNull();
});
