/**
 * Flood: time from typing a command that prints SIZE MB to its prompt appearing at a viewer, through
 * Pier and through a raw `docker exec -it` into the same pod, runs interleaved; then Ctrl+C typed
 * while `base64 /dev/urandom` floods the screen, until the prompt is back at the viewer.
 * Run: bun bench/terminal-flood.ts [sizes=15,50] [runs=5]   (MB; needs a Docker engine)
 */
import { cpus } from "node:os";
import { PROMPT, type Row, type Shell, arg, benchPier, rawShell, report, settle } from "./terminal-kit.ts";

const sizes = (process.argv.slice(2).find((a) => a.startsWith("sizes="))?.slice(6) ?? "15,50").split(",").map(Number);
const runs = arg("runs", 5);
/** Ctrl+C is typed once this much of the flood has reached the viewer. */
const FLOOD_BEFORE_CTRL_C = Math.min(2 * 1024 * 1024, Math.max(...sizes) * 1024 * 1024);

/** base64 of random bytes: `bytes` of text in 76-column lines. */
const printCommand = (bytes: number) => `head -c ${Math.round((bytes * 3) / 4)} /dev/urandom | base64`;

async function timeToPrompt(shell: Shell, command: string): Promise<number> {
  shell.reset();
  const started = performance.now();
  shell.send(`${command}\r`);
  await shell.until(PROMPT);
  return (performance.now() - started) / 1000;
}

async function ctrlC(shell: Shell): Promise<number> {
  shell.reset();
  shell.send("base64 /dev/urandom\r");
  await shell.untilBytes(FLOOD_BEFORE_CTRL_C, 60_000);
  shell.reset();
  const started = performance.now();
  shell.send("\x03");
  await shell.until(PROMPT, 60_000);
  return performance.now() - started;
}

const pier = await benchPier("flood");
try {
  const session = await pier.session();
  const viewer = await pier.viewer(session.id);
  const raw = await rawShell(session.podId, session.worktreePath);
  const rows: Row[] = [];
  for (const mb of sizes) {
    const command = printCommand(mb * 1024 * 1024);
    const row: Row = { bench: "flood", measure: `${mb} MB printed → prompt`, command, unit: "s", better: "lower", pier: [], raw: [], note: "target ≥ 0.9" };
    const after: Row = { bench: "flood", measure: `${mb} MB: pod's CPU after the prompt`, command: "tmux bringing its screen up to date", unit: "s", better: "lower", pier: [], raw: [], note: "not in the time above" };
    for (let i = 0; i < runs; i++) {
      await settle(session.podId);
      row.pier.push(await timeToPrompt(viewer, command));
      after.pier.push(await settle(session.podId));
      row.raw!.push(await timeToPrompt(raw, command));
      after.raw!.push(await settle(session.podId));
    }
    rows.push(row, after);
  }
  const stop: Row = { bench: "flood", measure: "Ctrl+C in a flood → prompt", command: "base64 /dev/urandom, ^C", unit: "ms", better: "lower", pier: [], raw: [], note: "target ≤ 200 ms" };
  for (let i = 0; i < runs; i++) {
    await settle(session.podId);
    stop.pier.push(await ctrlC(viewer));
    await settle(session.podId);
    stop.raw!.push(await ctrlC(raw));
  }
  rows.push(stop);
  viewer.close();
  raw.close();
  report(`Terminal flood — ${cpus()[0]?.model} × ${cpus().length}, Bun ${Bun.version}, ${new Date().toISOString().slice(0, 10)}`, rows);
} finally {
  await pier.stop();
}
