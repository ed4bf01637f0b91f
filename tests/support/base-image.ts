/**
 * Makes sure the Bun base image named in the Dockerfile exists in the local Docker engine.
 *
 * Test machines may have no container registry, so when the tag is missing we build a
 * stand-in without one: a Debian bookworm root filesystem from mmdebstrap (Debian's apt
 * mirror) plus the Bun binary from npm, laid out like the official oven/bun slim image,
 * then `docker import`ed under the exact tag the Dockerfile asks for. One deliberate difference:
 * the stand-in also trusts this machine's locally added CA certificates (see below).
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { imageExists, importDebianImage, run } from "./commands.ts";

const DOCKERFILE = join(import.meta.dir, "..", "..", "Dockerfile");
/** Where Debian keeps locally added CA certificates; see the note in ensureBunBaseImage. */
const LOCAL_CAS = "/usr/local/share/ca-certificates";

/** Ensures the base image exists locally and returns its tag, e.g. "oven/bun:1.4.5-slim". */
export async function ensureBunBaseImage(): Promise<string> {
  const tag = baseImageTag();
  if (await imageExists(tag)) return tag;

  const version = tag.match(/:(\d+\.\d+\.\d+)/)?.[1];
  if (!version) throw new Error(`Cannot read a Bun version from the base image tag "${tag}".`);
  // The npm package of the glibc build that needs AVX2; the "-baseline" package is for older CPUs.
  const npmPackage = `@oven/bun-linux-${process.arch === "arm64" ? "aarch64" : "x64"}@${version}`;

  const started = performance.now();
  const work = mkdtempSync(join(tmpdir(), "pier-base-image-"));
  try {
    log(`${tag} is not in the local engine; building a stand-in without a registry (in ${work})`);

    log(`fetching ${npmPackage} from npm`);
    const packed = (await run(["npm", "pack", "--silent", npmPackage], work)).trim().split("\n").at(-1)!;
    await run(["tar", "-xzf", packed], work); // -> package/bin/bun
    const bun = join(work, "package", "bin", "bun");
    // Fail here, with a clear message, if this CPU cannot run the binary.
    const reported = (await run([bun, "--version"], work)).trim();
    if (reported !== version) throw new Error(`${npmPackage} reports version ${reported}, expected ${version}.`);

    // Deviation from the official image: it also trusts this machine's locally added CAs.
    // Where outbound HTTPS goes through a TLS-inspecting proxy, `bun install` inside
    // `docker build` fails with SELF_SIGNED_CERT_IN_CHAIN without them. Bun uses its own
    // root store, so NODE_EXTRA_CA_CERTS points it at the system bundle (as on the host).
    const localCas = existsSync(LOCAL_CAS) && readdirSync(LOCAL_CAS).some((f) => f.endsWith(".crt"));

    log(`creating a Debian root filesystem with mmdebstrap and importing it as ${tag} (about 30 s)`);
    await importDebianImage({
      tag,
      include: ["ca-certificates"],
      hooks: [
        ...(localCas ? [`sync-in ${LOCAL_CAS} ${LOCAL_CAS}`, 'chroot "$1" update-ca-certificates'] : []),
        // Same layout as the official image: bun in /usr/local/bin, bunx a symlink to it,
        // an unprivileged "bun" user (uid/gid 1000) and /home/bun/app as the working directory.
        `upload ${bun} /usr/local/bin/bun`,
        "chroot \"$1\" sh -c '" +
          "chmod 0755 /usr/local/bin/bun && ln -s /usr/local/bin/bun /usr/local/bin/bunx && " +
          "groupadd --gid 1000 bun && useradd --uid 1000 --gid bun --shell /bin/sh --create-home bun && " +
          "install -d -o bun -g bun /home/bun/app'",
      ],
      changes: [
        "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "ENV BUN_RUNTIME_TRANSPILER_CACHE_PATH=0 BUN_INSTALL_BIN=/usr/local/bin",
        ...(localCas ? ["ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt"] : []),
        "WORKDIR /home/bun/app",
        'CMD ["/usr/local/bin/bun"]',
        "LABEL org.pier.base-image=local-stand-in",
      ],
      work,
    });
    log(`${tag} ready in ${Math.round((performance.now() - started) / 1000)} s`);
    return tag;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The one external image the Dockerfile's FROM lines use (later stages may say FROM <stage>). */
export function baseImageTag(dockerfile = DOCKERFILE): string {
  const text = readFileSync(dockerfile, "utf8");
  const stages = new Set<string>();
  const images = new Set<string>();
  for (const match of text.matchAll(/^\s*FROM\s+(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?/gim)) {
    const [, image, stage] = match;
    if (!stages.has(image!.toLowerCase())) images.add(image!);
    if (stage) stages.add(stage.toLowerCase());
  }
  if (images.size !== 1) {
    throw new Error(`Expected the Dockerfile to use one base image, found: ${[...images].join(", ") || "none"}.`);
  }
  return [...images][0]!;
}

function log(line: string): void {
  console.error(`[base-image] ${line}`);
}
