// The session page's terminal: an xterm.js terminal on the session's WebSocket, filling its pane,
// with the keys, input bar and editor a phone needs. Bundled into public/vendor/terminal.js.

import { FitAddon } from "@xterm/addon-fit";
import type { Terminal } from "@xterm/xterm";
import { enableClipboard } from "./clipboard.ts";
import { type ConnectionState, TerminalConnection } from "./connection.ts";
import { debounce, el, pressButton, setPressed } from "./dom.ts";
import { editorDialog } from "./editor.ts";
import { fullScreenButton } from "./fullscreen.ts";
import { inputBar } from "./input-bar.ts";
import { StickyCtrl, keysBar } from "./keys.ts";
import { StatusLine } from "./status-line.ts";
import { openTerminal } from "./xterm-setup.ts";

declare global {
  interface Window {
    /** For the browser tests. */
    pierTerminal?: { term: Terminal; state(): ConnectionState["kind"] };
  }
}

/** Where the phone controls show by default; elsewhere a button shows them. */
const TOUCH_SCREEN = "(pointer: coarse), (max-width: 800px)";

const placeholder = document.querySelector<HTMLElement>("[data-terminal]");
if (placeholder) startTerminal(placeholder, placeholder.dataset.terminal ?? "");

/** Replaces `host`'s content with the terminal. `path` is the WebSocket's, /api/sessions/<id>/terminal. */
function startTerminal(host: HTMLElement, path: string): void {
  // xterm measures its box when it opens, so the box is on the page first.
  const root = el("div", { class: "term", "data-state": "connecting" });
  const screen = el("div", { class: "term-screen" });
  root.append(screen);
  host.replaceChildren(root);
  const term = openTerminal(screen, { cursorBlink: true });

  // The controls and the status line only use `connection` once the user acts, after it exists.
  const send = (data: string) => connection.sendInput(data);
  const ctrl = new StickyCtrl();
  const editor = editorDialog(send);
  const controls = el("div", { class: "term-controls" }, keysBar(term, ctrl, send), inputBar(send, editor.open));
  const pane = host.closest<HTMLElement>(".pane") ?? host;
  const status = new StatusLine(root, outputPage(path), () => connection.reconnect(), [
    controlsToggle(controls),
    fullScreenButton(pane),
  ]);
  root.prepend(status.element);
  root.append(controls, editor.dialog);

  const connection = new TerminalConnection(socketUrl(path), {
    output: (bytes) => term.write(bytes),
    opened: () => connection.sendResize(term.cols, term.rows),
    state: (state) => {
      status.show(state);
      term.options.disableStdin = state.kind === "ended";
    },
    error: (message) => status.notify(message),
    notice: (message) => {
      // Bold and reversed on a line of its own, so it reads as Pier's and not the shell's; control characters never reach the terminal.
      term.write(`\r\n\x1b[1;7m Pier: ${message.replace(/[\x00-\x1f\x7f-\x9f]/g, "?")} \x1b[0m\r\n`);
      status.notify(message);
    },
  });
  term.onData((data) => send(ctrl.typed(data)));
  term.onResize(({ cols, rows }) => connection.sendResize(cols, rows));
  enableClipboard(term);
  fitToScreen(term, screen);
  // Back on the network: no need to wait out the back-off.
  window.addEventListener("online", () => {
    if (connection.state.kind === "reconnecting") connection.reconnect();
  });
  window.pierTerminal = { term, state: () => connection.state.kind };
  connection.connect();
}

/** Keeps the terminal as large as its box: at start, and (debounced) whenever the box changes. */
function fitToScreen(term: Terminal, screen: HTMLElement): void {
  const fit = new FitAddon();
  term.loadAddon(fit);
  // A hidden pane has no size; fitting it would shrink the shell to a sliver.
  const fitIfShown = () => {
    if (screen.clientWidth > 0 && screen.clientHeight > 0) fit.fit();
  };
  new ResizeObserver(debounce(fitIfShown, 100)).observe(screen);
  fitIfShown();
}

/** A button to show or hide the phone controls, which start shown on touch screens and small windows. */
function controlsToggle(controls: HTMLElement): HTMLButtonElement {
  const touch = window.matchMedia(TOUCH_SCREEN);
  const show = (shown: boolean) => {
    controls.hidden = !shown;
    setPressed(button, shown);
  };
  const button = pressButton("⌨", "Show keys", () => show(controls.hidden));
  touch.addEventListener("change", () => show(touch.matches));
  show(touch.matches);
  return button;
}

function socketUrl(path: string): string {
  const url = new URL(path, window.location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return url.href;
}

/** /api/sessions/<id>/terminal → /sessions/<id>/output, the page with the session's recording. */
function outputPage(path: string): string {
  const id = path.split("/")[3] ?? "";
  return `/sessions/${encodeURIComponent(id)}/output`;
}
