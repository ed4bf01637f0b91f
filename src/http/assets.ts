import { copyFileSync, mkdirSync, readdirSync, renameSync, statSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";

const ROOT = join(import.meta.dir, "..", "..");
export const PUBLIC_DIR = join(ROOT, "public");
const VENDOR_DIR = join(PUBLIC_DIR, "vendor");
const CLIENT_DIR = join(ROOT, "src", "client");

/** Browser files that come from npm packages, copied into public/vendor (never fetched from a CDN). */
const VENDORED: Array<[from: string, to: string]> = [
  ["node_modules/htmx.org/dist/htmx.min.js", "htmx.min.js"],
  ["node_modules/@xterm/xterm/css/xterm.css", "xterm.css"],
  ["node_modules/uplot/dist/uPlot.min.css", "uPlot.min.css"],
];

/** Pier's browser code in src/client, each entry point bundled with its npm packages into public/vendor. */
const BUNDLES: Array<[entry: string, out: string]> = [
  ["terminal.ts", "terminal.js"],
  ["replay.ts", "replay.js"],
  ["chat.ts", "chat.js"],
  ["prs.ts", "prs.js"],
  ["task-board.ts", "task-board.js"],
  ["task-page.ts", "task-page.js"],
  ["session-task.ts", "session-task.js"],
  ["session-worktree.ts", "session-worktree.js"],
  ["cost-chart.ts", "cost-chart.js"],
  ["review.ts", "review.js"],
  ["attention.ts", "attention.js"],
  ["engine-status.ts", "engine-status.js"],
  ["dashboard.ts", "dashboard.js"],
  ["preview.ts", "preview.js"],
  // Served at /service-worker.js (see push-routes.ts), so its scope is the whole origin.
  ["service-worker.ts", "service-worker.js"],
  ["push-enable.ts", "push-enable.js"],
];

/** Besides src/client, the bundles change when the npm packages in them do. */
const DEPENDENCY_FILES = ["package.json", "bun.lock"];

/** The build under way in this process, which concurrent callers wait for rather than start another. */
let building: Promise<void> | null = null;

/**
 * Puts the browser files in place. It runs at every start (many times over in the tests, some at
 * once), so it only does what is out of date: copying a vendored file newer than its copy, and
 * bundling src/client when a source is newer than the bundles. Files are replaced atomically, so
 * a server already running never serves half a file.
 */
export async function prepareAssets(): Promise<void> {
  mkdirSync(VENDOR_DIR, { recursive: true });
  for (const [from, to] of VENDORED) copyIfNewer(join(ROOT, from), join(VENDOR_DIR, to));
  if (bundlesAreFresh()) return;
  building ??= buildBundles().finally(() => {
    building = null;
  });
  await building;
}

function copyIfNewer(from: string, to: string): void {
  if (modifiedAt(to) > modifiedAt(from)) return;
  const temporary = temporaryPath(to);
  copyFileSync(from, temporary);
  renameSync(temporary, to);
}

function bundlesAreFresh(): boolean {
  const sources = readdirSync(CLIENT_DIR, { recursive: true, encoding: "utf8" }).map((file) => join(CLIENT_DIR, file));
  const inputs = [...sources, ...DEPENDENCY_FILES.map((file) => join(ROOT, file))];
  const newestInput = Math.max(...inputs.map(modifiedAt));
  const oldestBundle = Math.min(...BUNDLES.map(([, out]) => modifiedAt(join(VENDOR_DIR, out))));
  return oldestBundle > newestInput;
}

async function buildBundles(): Promise<void> {
  // Without an outdir the files come back in memory, to be put in place atomically. Bun.build
  // throws, with the compiler's messages, when the code does not build.
  const result = await Bun.build({
    entrypoints: BUNDLES.map(([entry]) => join(CLIENT_DIR, entry)),
    target: "browser",
    // Plain scripts, loaded with <script defer> like Pier's others.
    format: "iife",
    minify: true,
    sourcemap: "linked",
  });
  for (const output of result.outputs) {
    const to = join(VENDOR_DIR, basename(output.path));
    const temporary = temporaryPath(to);
    writeFileSync(temporary, new Uint8Array(await output.arrayBuffer()));
    renameSync(temporary, to);
  }
}

/** Modification time in milliseconds; 0 for a file that does not exist. */
function modifiedAt(path: string): number {
  return statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? 0;
}

/** A name next to `path` no other process or call uses, to write to before renaming into place. */
function temporaryPath(path: string): string {
  return `${path}.${process.pid}.${crypto.randomUUID()}.tmp`;
}
