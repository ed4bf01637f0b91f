import type { ITheme, Terminal } from "@xterm/xterm";

// Terminal colours for Pier's light and dark looks. Backgrounds and text match --surface and
// --text in public/style.css; the sixteen ANSI colours are GitHub's, readable on each background.

const LIGHT: ITheme = {
  background: "#ffffff",
  foreground: "#1c2330",
  cursor: "#1f6feb",
  cursorAccent: "#ffffff",
  selectionBackground: "#b6d3ff",
  black: "#24292f",
  red: "#cf222e",
  green: "#116329",
  yellow: "#4d2d00",
  blue: "#0969da",
  magenta: "#8250df",
  cyan: "#1b7c83",
  white: "#6e7781",
  brightBlack: "#57606a",
  brightRed: "#a40e26",
  brightGreen: "#1a7f37",
  brightYellow: "#633c01",
  brightBlue: "#218bff",
  brightMagenta: "#a475f9",
  brightCyan: "#3192aa",
  brightWhite: "#8c959f",
};

const DARK: ITheme = {
  background: "#171c23",
  foreground: "#e3e8ef",
  cursor: "#4c8df6",
  cursorAccent: "#171c23",
  selectionBackground: "#2f4b75",
  black: "#484f58",
  red: "#ff7b72",
  green: "#3fb950",
  yellow: "#d29922",
  blue: "#58a6ff",
  magenta: "#bc8cff",
  cyan: "#39c5cf",
  white: "#b1bac4",
  brightBlack: "#6e7681",
  brightRed: "#ffa198",
  brightGreen: "#56d364",
  brightYellow: "#e3b341",
  brightBlue: "#79c0ff",
  brightMagenta: "#d2a8ff",
  brightCyan: "#56d4dd",
  brightWhite: "#ffffff",
};

/** Gives the terminal the theme of the system's colour scheme, now and whenever it changes. */
export function followColorScheme(term: Terminal): void {
  const dark = window.matchMedia("(prefers-color-scheme: dark)");
  const apply = () => {
    term.options.theme = dark.matches ? DARK : LIGHT;
  };
  dark.addEventListener("change", apply);
  apply();
}
