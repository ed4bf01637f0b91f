import { Unicode11Addon } from "@xterm/addon-unicode11";
import { WebLinksAddon } from "@xterm/addon-web-links";
import { type ITerminalInitOnlyOptions, type ITerminalOptions, Terminal } from "@xterm/xterm";
import { routeStyleElementsToSheets } from "./csp-styles.ts";
import { followColorScheme } from "./theme.ts";

/** The same stack as --mono in public/style.css. */
const MONO = 'ui-monospace, "SFMono-Regular", "Cascadia Mono", Menlo, Consolas, "DejaVu Sans Mono", monospace';

/**
 * Opens an xterm.js terminal in `container` (which must already be on the page, as xterm measures
 * it): Pier's font and colours, Unicode 11 character widths, clickable links.
 */
export function openTerminal(container: HTMLElement, options: ITerminalOptions & ITerminalInitOnlyOptions = {}): Terminal {
  routeStyleElementsToSheets();
  // xterm's default label for its hidden textarea, "Terminal input", is the input bar's name.
  Terminal.strings.promptLabel = "Type into the terminal";
  const term = new Terminal({
    fontFamily: MONO,
    fontSize: 14,
    scrollback: 10_000,
    // The Unicode 11 addon switches widths through `term.unicode`, which xterm still calls proposed API.
    allowProposedApi: true,
    ...options,
  });
  term.loadAddon(new Unicode11Addon());
  term.unicode.activeVersion = "11";
  term.loadAddon(new WebLinksAddon((_event, uri) => window.open(uri, "_blank", "noopener,noreferrer")));
  followColorScheme(term);
  term.open(container);
  return term;
}
