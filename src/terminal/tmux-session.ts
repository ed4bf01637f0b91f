import type { Pod, Runtime } from "../runtime/runtime.ts";
import { TmuxControl, tmuxQuote } from "./tmux-control.ts";

/** What the session's shell is and where it runs: what its tmux session is started with. */
export interface ShellSpec {
  sessionId: string;
  worktreePath: string;
  /** Run first in the shell (for example `claude`); a login shell remains when it exits. */
  startCommand: string | null;
  env: Record<string, string>;
  /** tmux's server socket name, apart from any tmux the user runs (see tmuxCommand). */
  socketName: string;
  /** A line the shell shows first when this opens a new one (why the shell is new). */
  note?: string | null;
  /** The holder (pier-pty): its path in the pod and the socket it reaches Pier on. */
  holder?: { program: string; socket: string } | null;
}

/** The session's tmux session, attached: its control client and what Pier found of it. */
export interface TmuxSession {
  control: TmuxControl;
  /** The session's window, as a tmux target. */
  target: string;
  /** The terminal's size as attached. */
  size: { cols: number; rows: number };
  /** The control client asked tmux for no pane output (a holder is to carry it). */
  quiet: boolean;
  /** The pane's id (`%N`), or "" when tmux did not say. */
  pane: string;
  /** The pane runs (or is about to run) the holder, so it is worth waiting for. */
  holderExpected: boolean;
}

/** The tmux command line for this Pier's tmux server: its own socket, apart from any other tmux. */
export function tmuxCommand(socketName: string): string[] {
  return ["tmux", "-L", socketName];
}

/** How long tmux gets to attach a control client before the terminal is reported as failed. */
const ATTACH_TIMEOUT_MS = 10_000;
const DEFAULT_SIZE = { cols: 120, rows: 32 };
const HISTORY_LINES = 50_000;

/**
 * Runs the shell under the holder when the holder runs in this pod (a pod of another machine type
 * could not run it), else the shell itself. $1 the holder, $2 Pier's socket, $3 the session, the rest the shell.
 */
const UNDER_HOLDER = `h=$1 s=$2 id=$3; shift 3
if "$h" version >/dev/null 2>&1; then exec "$h" serve "$s" "$id" -- "$@"; fi
exec "$@"`;

/**
 * Finds the session's tmux session or starts it: $1-$3 the tmux command and its server, $4 the
 * session as a target; the rest starts it. Exits FOUND when it was there already.
 */
const FIND_OR_START = `"$1" "$2" "$3" has-session -t "$4" 2>/dev/null && exit 100
shift 4
exec "$@"`;
const FOUND = 100;

/**
 * An argument as tmux's command line keeps it: tmux takes one that ends in ";" for the end of its
 * command (the rest of the line would start another, and fail), and "\;" there for a plain ";".
 * The note (a setup script's output) may end in one.
 */
function literal(arg: string): string {
  return arg.endsWith(";") ? `${arg.slice(0, -1)}\\;` : arg;
}

/** Shows $0 (dimmed) before running the rest: the note a new shell opens with. */
const SAY_FIRST = `printf '\\033[2m%s\\033[0m\\n' "$0"; exec "$@"`;

/**
 * Creates or finds the tmux session (on the session's own tmux server: tmux 3.3a crashed, taking
 * every session with it, when clients of several sessions on one server attached and resized at
 * once) and attaches a control client with its size set.
 */
export async function attachTmuxSession(runtime: Runtime, pod: Pod, spec: ShellSpec): Promise<TmuxSession> {
  const name = `pier-${spec.sessionId}`;
  const TMUX = tmuxCommand(spec.socketName);
  let shell = spec.startCommand ? ["bash", "-lc", `${spec.startCommand}; exec bash -l`] : ["bash", "-l"];
  if (spec.note) shell = ["sh", "-c", SAY_FIRST, spec.note, ...shell];
  if (spec.holder) shell = ["sh", "-c", UNDER_HOLDER, "sh", spec.holder.program, spec.holder.socket, spec.sessionId, ...shell];
  const env = Object.entries({ ...spec.env, TERM: "xterm-256color", COLORTERM: "truecolor" }).flatMap(([k, v]) => ["-e", literal(`${k}=${v}`)]);
  // Found, or made, in one exec into the pod (each costs tens of milliseconds).
  const started = await runtime.exec(
    pod,
    [
      "sh", "-c", FIND_OR_START, "sh", ...TMUX, `=${name}`,
      ...TMUX, "-f", "/dev/null", "start-server", ";",
      "set-option", "-g", "history-limit", String(HISTORY_LINES), ";",
      "set-option", "-g", "default-terminal", "xterm-256color", ";",
      "set-option", "-g", "status", "off", ";",
      "new-session", "-d", "-s", name, "-x", String(DEFAULT_SIZE.cols), "-y", String(DEFAULT_SIZE.rows),
      "-c", spec.worktreePath, ...env, ...shell.map(literal),
    ],
    { cwd: spec.worktreePath },
  );
  const found = started.exitCode === FOUND;
  if (!found && started.exitCode !== 0) throw new Error(`Could not start the terminal: ${started.stderr.trim() || started.stdout.trim()}`);
  // With a holder to carry the output, the control client asks tmux for none (until it must carry it after all).
  const quiet = spec.holder ? ["-f", "no-output"] : [];
  const client = await runtime.spawn(pod, [...TMUX, "-C", "attach-session", ...quiet, "-t", `=${name}`], { cwd: spec.worktreePath });
  const control = new TmuxControl(client);
  const attached = await Promise.race([control.ready.then(() => true), Bun.sleep(ATTACH_TIMEOUT_MS).then(() => false)]);
  if (!attached) {
    control.close();
    throw new Error("tmux did not attach the terminal in time.");
  }
  const target = `=${name}:`;
  const [info] = await control.command(`display-message -p -t ${tmuxQuote(target)} '#{window_width} #{window_height} #{pane_id} #{pane_current_command}'`);
  const [width, height, paneId, ...command] = (info ?? "").split(" ");
  const running = command.join(" ");
  // A terminal found after a restart keeps its size: a change would make the shell redraw its prompt.
  const size = found && Number(width) > 0 && Number(height) > 0 ? { cols: Number(width), rows: Number(height) } : DEFAULT_SIZE;
  return {
    control,
    target,
    size: { ...size },
    quiet: quiet.length > 0,
    pane: paneId?.startsWith("%") ? paneId : "",
    // The pane runs the holder, or is still starting it (sh, just before it becomes the holder or the shell).
    holderExpected: running === "pier-pty" || (!found && running === "sh"),
  };
}
