import { type TmuxControl, tmuxQuote } from "./tmux-control.ts";

/** Lines of history a new watcher gets before the screen. */
const SNAPSHOT_HISTORY = 3000;

/** The pane's screen and history as tmux has it now, as bytes that make a fresh terminal show it. */
export async function captureScreen(control: TmuxControl, target: string): Promise<Uint8Array> {
  const quoted = tmuxQuote(target);
  const [stateLine] = await control.command(`display-message -p -t ${quoted} '#{alternate_on} #{cursor_x} #{cursor_y} #{keypad_cursor_flag}'`);
  // In the alternate screen there is no history to give.
  const lines = await control.command(`capture-pane -p -e -t ${quoted}${stateLine?.startsWith("1") ? "" : ` -S -${SNAPSHOT_HISTORY}`}`);
  return snapshotBytes(lines, stateLine ?? "");
}

/**
 * Bytes that make a fresh terminal show what tmux has: a full reset, the captured lines (the
 * history scrolls off the top into the watcher's scrollback), then the cursor and the modes.
 */
export function snapshotBytes(lines: string[], state: string): Uint8Array {
  const [alternate, x, y, appCursor] = state.split(" ").map(Number);
  let out = "\x1bc";
  if (alternate === 1) out += "\x1b[?1049h\x1b[H";
  out += lines.map((line) => line + "\x1b[0m").join("\r\n");
  // The watcher has the pane's size by now, so the screen is its viewport: put the cursor there.
  out += `\x1b[${(y ?? 0) + 1};${(x ?? 0) + 1}H`;
  if (appCursor === 1) out += "\x1b[?1h";
  return new TextEncoder().encode(out);
}
