import { copyFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "..", "..");
export const PUBLIC_DIR = join(ROOT, "public");

/** Browser files that come from npm packages, copied into public/vendor (never fetched from a CDN). */
const VENDORED: Array<[from: string, to: string]> = [["node_modules/htmx.org/dist/htmx.min.js", "htmx.min.js"]];

/** Puts the vendored browser files in place; a handful of file copies, done at every start. */
export function prepareAssets(): void {
  const vendor = join(PUBLIC_DIR, "vendor");
  mkdirSync(vendor, { recursive: true });
  for (const [from, to] of VENDORED) copyFileSync(join(ROOT, from), join(vendor, to));
}
