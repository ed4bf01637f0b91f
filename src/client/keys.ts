import type { Terminal } from "@xterm/xterm";
import { el, pressButton, setPressed } from "./dom.ts";

type Send = (data: string) => void;

/** Ctrl+key for the keys outside the @–_ range, as xterm sends them. */
const SPECIAL_CONTROLS: Record<string, string> = { " ": "\x00", "/": "\x1f", "?": "\x7f" };

/** The control character a terminal gets for Ctrl+key: Ctrl+C is \x03, Ctrl+[ is Esc, Ctrl+? is DEL. */
export function controlCharacter(key: string): string {
  const special = SPECIAL_CONTROLS[key];
  if (special) return special;
  const code = key.toUpperCase().charCodeAt(0);
  return key.length === 1 && code >= 64 && code <= 95 ? String.fromCharCode(code - 64) : key;
}

/**
 * The on-screen Ctrl: phones have no Ctrl key, so tapping it makes the next key a control key
 * (c becomes ^C), after which it lets go.
 */
export class StickyCtrl {
  readonly button = pressButton("Ctrl", "Ctrl", () => this.set(!this.armed));
  private armed = false;

  constructor() {
    setPressed(this.button, false);
  }

  /**
   * Input typed in the terminal. Only a single character takes the Ctrl, so reports the terminal
   * sends by itself in between (focus in/out, cursor position) do not use it up.
   */
  typed(data: string): string {
    return this.armed && data.length === 1 ? this.consume(data) : data;
  }

  /** A key from the keys bar takes the Ctrl; keys with no control form are sent unchanged. */
  pressed(bytes: string): string {
    return this.armed ? this.consume(bytes) : bytes;
  }

  private consume(key: string): string {
    this.set(false);
    return controlCharacter(key);
  }

  private set(armed: boolean): void {
    this.armed = armed;
    setPressed(this.button, armed);
  }
}

interface Key {
  text: string;
  /** The accessible name. */
  name: string;
  bytes(term: Terminal): string;
}

/**
 * Arrow keys send ESC O x when the program switched the terminal to application cursor mode
 * (vim, less, most full-screen programs do) and ESC [ x otherwise.
 */
function arrow(letter: string): Key["bytes"] {
  return (term) => (term.modes.applicationCursorKeysMode ? "\x1bO" : "\x1b[") + letter;
}

const KEYS_BEFORE_CTRL: Key[] = [
  { text: "Esc", name: "Esc", bytes: () => "\x1b" },
  { text: "Tab", name: "Tab", bytes: () => "\t" },
  { text: "⇧Tab", name: "Shift+Tab", bytes: () => "\x1b[Z" },
];

const KEYS_AFTER_CTRL: Key[] = [
  { text: "^C", name: "Ctrl+C", bytes: () => "\x03" },
  { text: "^D", name: "Ctrl+D", bytes: () => "\x04" },
  { text: "←", name: "Left", bytes: arrow("D") },
  { text: "↑", name: "Up", bytes: arrow("A") },
  { text: "→", name: "Right", bytes: arrow("C") },
  { text: "↓", name: "Down", bytes: arrow("B") },
  { text: "/", name: "Slash", bytes: () => "/" },
];

/** The row of keys a phone keyboard lacks. It scrolls sideways when it does not fit. */
export function keysBar(term: Terminal, ctrl: StickyCtrl, send: Send): HTMLElement {
  const button = (key: Key) => pressButton(key.text, key.name, () => send(ctrl.pressed(key.bytes(term))));
  return el(
    "div",
    { class: "term-keys", role: "group", "aria-label": "Special keys" },
    ...KEYS_BEFORE_CTRL.map(button),
    ctrl.button,
    ...KEYS_AFTER_CTRL.map(button),
  );
}
