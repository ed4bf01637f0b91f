/**
 * How a tmux control client's end is read: a shell that exited (or a tmux server someone killed)
 * says %exit, which the page shows as "the shell exited"; a client that ends without a word lost
 * its connection to the pod (the pod or its engine went), and the terminal is opened again by
 * itself. A real tmux on this machine, its client killed by its pid as an engine's restart does.
 */
import { afterEach, expect, test } from "bun:test";
import { tmpdir } from "node:os";
import { LocalRuntime } from "../../src/runtime/local-runtime.ts";
import { TmuxControl } from "../../src/terminal/tmux-control.ts";

const runtime = new LocalRuntime();
const pod = { id: "local", image: "" };
let server = "";

afterEach(() => {
  Bun.spawnSync(["tmux", "-L", server, "kill-server"], { stderr: "ignore" });
});

async function attached(command: string): Promise<TmuxControl> {
  server = `pier-control-end-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const started = Bun.spawnSync(["tmux", "-L", server, "-f", "/dev/null", "new-session", "-d", "-s", "s", command]);
  expect(started.exitCode).toBe(0);
  const control = new TmuxControl(await runtime.spawn(pod, ["tmux", "-L", server, "-C", "attach-session", "-t", "=s"], { cwd: tmpdir() }));
  await control.ready;
  return control;
}

function ended(control: TmuxControl): Promise<void> {
  return new Promise((resolve) => control.onExit(() => resolve()));
}

test("the shell exiting is an end tmux says (%exit): not a lost connection", async () => {
  const control = await attached("sleep 0.5");
  await ended(control);
  expect(control.alive).toBe(false);
  expect(control.lostConnection).toBe(false);
});

test("the client ending without %exit (its pod went from under it) is a lost connection", async () => {
  const control = await attached("sleep 60");
  const [pid] = (await control.command("list-clients -F '#{client_pid}'")).map(Number);
  expect(pid).toBeGreaterThan(1);
  process.kill(pid!, "SIGKILL");
  await ended(control);
  expect(control.lostConnection).toBe(true);
});

test("Pier closing the client itself (a shutdown) is no lost connection", async () => {
  const control = await attached("sleep 60");
  control.close();
  await ended(control);
  expect(control.lostConnection).toBe(false);
});
