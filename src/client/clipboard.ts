import type { Terminal } from "@xterm/xterm";
import { debounce } from "./dom.ts";

/**
 * Terminal-style clipboard: selecting text copies it, Ctrl+Shift+C copies and Ctrl+Shift+V pastes
 * (plain Ctrl+C and Ctrl+V belong to the programs in the terminal). Pasting from the browser's own
 * menu or shortcut still goes through xterm, which is left alone for that.
 */
export function enableClipboard(term: Terminal): void {
  // The selection changes with every mouse move while dragging; copy once it settles.
  term.onSelectionChange(debounce(() => copy(term.getSelection()), 150));
  term.attachCustomKeyEventHandler((event) => {
    if (event.type !== "keydown" || !event.ctrlKey || !event.shiftKey || event.altKey || event.metaKey) return true;
    if (event.code === "KeyC") copy(term.getSelection());
    // Without the clipboard API the browser's own paste (Chrome and Firefox bind Ctrl+Shift+V) reaches xterm.
    else if (event.code === "KeyV" && navigator.clipboard) paste(term);
    else return true;
    // Stops the browser's own action for the shortcut (Chrome's Ctrl+Shift+V would paste a second time).
    event.preventDefault();
    return false;
  });
}

function copy(text: string): void {
  if (!text) return;
  // The clipboard can refuse (no permission, page not focused); the selection stays there to copy by hand.
  if (navigator.clipboard) navigator.clipboard.writeText(text).catch(() => {});
  // Pages served over plain http (Pier on a home network) have no clipboard API. The old copy
  // command still works there: it fires a copy event, which xterm answers with its selection.
  else document.execCommand("copy");
}

function paste(term: Terminal): void {
  // term.paste, like a paste from the browser menu, respects bracketed paste mode.
  navigator.clipboard
    .readText()
    .then((text) => term.paste(text))
    .catch(() => {});
}
