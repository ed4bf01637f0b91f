/**
 * Puts third-party browser files into public/vendor from their npm packages (never a CDN).
 * Runs before `bun start` and in the Docker build; cheap enough to run every time.
 */
import { copyFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dir, "..");
const vendor = join(root, "public", "vendor");
mkdirSync(vendor, { recursive: true });

const files: Array<[from: string, to: string]> = [["node_modules/htmx.org/dist/htmx.min.js", "htmx.min.js"]];
for (const [from, to] of files) copyFileSync(join(root, from), join(vendor, to));
