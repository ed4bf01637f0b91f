/**
 * What Pier accepts as a Claude Code package, against a hostile npm registry: a local HTTP server
 * speaking the registry's wire format (a version's metadata document, its tarball) with tarballs
 * made by the real `tar`, each with a correct sha512 integrity, so only what is in them or where
 * they are decides. A link in the package (a symbolic `package/claude` pointing at a server file,
 * or a hard link) and a tarball off the registry's own origin (another host, a file: URL, a
 * redirect) are refused with a sentence, and nothing on the server changes.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { claudeCodePath, fetchClaudeCode } from "../../src/claude-code/package.ts";
import { run } from "../support/commands.ts";

const NAME = "@anthropic-ai/claude-code-linux-x64";
const PROGRAM = "#!/bin/sh\necho 'a Claude Code from the test registry'\n";

/** A tarball made by the real tar from a directory laid out by `lay` (given the `package` directory). */
async function tarball(lay: (pkg: string) => void): Promise<Uint8Array<ArrayBuffer>> {
  const stage = mkdtempSync(join(tmpdir(), "pier-pkg-stage-"));
  try {
    const pkg = join(stage, "package");
    mkdirSync(pkg);
    writeFileSync(join(pkg, "package.json"), JSON.stringify({ name: NAME, version: "0.0.0" }));
    lay(pkg);
    await run(["tar", "-czf", join(stage, "out.tgz"), "-C", stage, "package"], stage);
    return new Uint8Array(readFileSync(join(stage, "out.tgz")));
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

const integrity = (bytes: Uint8Array) => `sha512-${createHash("sha512").update(bytes).digest("base64")}`;

/** An HTTP server on loopback that answers each path with what `routes` says, and notes every request. */
function server(routes: Map<string, () => Response>) {
  const seen: string[] = [];
  const http = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(request) {
      const path = new URL(request.url).pathname;
      seen.push(path);
      return routes.get(path)?.() ?? new Response("not found", { status: 404 });
    },
  });
  return { url: `http://127.0.0.1:${http.port}`, seen, routes, stop: () => http.stop(true) };
}

describe("a Claude Code package from a hostile registry", () => {
  const dir = mkdtempSync(join(tmpdir(), "pier-pkg-builds-"));
  const registry = server(new Map());
  const elsewhere = server(new Map());
  const victim = join(mkdtempSync(join(tmpdir(), "pier-pkg-victim-")), "server-secret");
  let good: Uint8Array<ArrayBuffer>;

  /** Publishes `version` with this tarball at this URL (on the registry unless said otherwise). */
  const publish = (version: string, bytes: Uint8Array<ArrayBuffer>, tarballUrl = `${registry.url}/tarballs/${version}.tgz`) => {
    registry.routes.set(`/tarballs/${version}.tgz`, () => new Response(bytes));
    registry.routes.set(`/${NAME.replace("/", "%2f")}/${version}`, () => Response.json({ name: NAME, version, dist: { tarball: tarballUrl, integrity: integrity(bytes) } }));
  };
  const fetchVersion = (version: string) => fetchClaudeCode({ registry: registry.url, version, variant: "linux-x64", dir });
  const refusal = (version: string) => fetchVersion(version).then(
    () => "accepted",
    (error: Error) => error.message,
  );

  beforeAll(async () => {
    writeFileSync(victim, "only the server reads this\n");
    chmodSync(victim, 0o600);
    good = await tarball((pkg) => writeFileSync(join(pkg, "claude"), PROGRAM));
  }, 60_000);

  afterAll(() => {
    registry.stop();
    elsewhere.stop();
    rmSync(dir, { recursive: true, force: true });
    rmSync(join(victim, ".."), { recursive: true, force: true });
  });

  test("a plain package/claude on the registry is taken, executable (the registry fake itself works)", async () => {
    publish("1.0.0", good);
    const path = await fetchVersion("1.0.0");
    expect(path).toBe(claudeCodePath(dir, "1.0.0", "linux-x64"));
    expect(readFileSync(path, "utf8")).toBe(PROGRAM);
    expect(statSync(path).mode & 0o777).toBe(0o755);
  });

  test("a package/claude that is a symbolic link to a server file is refused, and that file is left as it was", async () => {
    publish("1.0.1", await tarball((pkg) => symlinkSync(victim, join(pkg, "claude"))));
    const said = await refusal("1.0.1");
    expect((statSync(victim).mode & 0o777).toString(8)).toBe("600");
    expect(readFileSync(victim, "utf8")).toBe("only the server reads this\n");
    expect(said).toContain(`The ${NAME} 1.0.1 package is refused: it holds a link (package/claude → ${victim})`);
    expect(existsSync(claudeCodePath(dir, "1.0.1", "linux-x64"))).toBe(false);
  });

  test("a package with a hard link in it is refused", async () => {
    publish(
      "1.0.2",
      await tarball((pkg) => {
        writeFileSync(join(pkg, "claude"), PROGRAM);
        linkSync(join(pkg, "claude"), join(pkg, "claude-too"));
      }),
    );
    expect(await refusal("1.0.2")).toContain(`The ${NAME} 1.0.2 package is refused: it holds a link`);
    expect(existsSync(claudeCodePath(dir, "1.0.2", "linux-x64"))).toBe(false);
  });

  test("a tarball on another origin is not fetched: another host, a file: URL, a redirect", async () => {
    elsewhere.routes.set("/claude.tgz", () => new Response(good));
    publish("1.1.0", good, `${elsewhere.url}/claude.tgz`);
    expect(await refusal("1.1.0")).toBe(`The npm registry gave ${elsewhere.url} as where ${NAME} 1.1.0 is; Pier takes Claude Code only from the registry's own origin, ${registry.url}.`);

    const onDisk = join(dir, "on-disk.tgz");
    writeFileSync(onDisk, good);
    publish("1.1.1", good, `file://${onDisk}`);
    expect(await refusal("1.1.1")).toBe(`The npm registry gave a file: URL as where ${NAME} 1.1.1 is; Pier takes Claude Code only from the registry's own origin, ${registry.url}.`);

    publish("1.1.2", good);
    registry.routes.set("/tarballs/1.1.2.tgz", () => Response.redirect(`${elsewhere.url}/claude.tgz`, 302));
    expect(await refusal("1.1.2")).toContain("redirected the download");

    expect(elsewhere.seen).toEqual([]);
    for (const version of ["1.1.0", "1.1.1", "1.1.2"]) expect(existsSync(claudeCodePath(dir, version, "linux-x64"))).toBe(false);
  });
});
