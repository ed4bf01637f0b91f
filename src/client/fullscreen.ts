import { pressButton, setPressed } from "./dom.ts";

/** Where the Fullscreen API is missing (iPhone Safari) or refused, this class fills the window instead. */
const FALLBACK = "term-fullscreen";

/** A button that shows `pane` full screen and back. */
export function fullScreenButton(pane: HTMLElement): HTMLButtonElement {
  const isFull = () => document.fullscreenElement === pane || pane.classList.contains(FALLBACK);
  const sync = () => setPressed(button, isFull());

  const toggle = async () => {
    if (document.fullscreenElement === pane) await document.exitFullscreen();
    else if (pane.classList.contains(FALLBACK)) pane.classList.remove(FALLBACK);
    else if (document.fullscreenEnabled) await pane.requestFullscreen().catch(() => pane.classList.add(FALLBACK));
    else pane.classList.add(FALLBACK);
    sync();
  };

  const button = pressButton("⤢", "Full screen", () => void toggle());
  document.addEventListener("fullscreenchange", sync);
  followVisibleViewport(pane);
  sync();
  return button;
}

/**
 * A phone's on-screen keyboard covers the bottom of the window without making it smaller (iOS),
 * so the fallback full screen follows the visible part of the page (see .term-fullscreen in
 * public/terminal.css) to keep the input bar above the keyboard.
 */
function followVisibleViewport(pane: HTMLElement): void {
  const viewport = window.visualViewport;
  if (!viewport) return;
  const update = () => {
    pane.style.setProperty("--visible-top", `${viewport.offsetTop}px`);
    pane.style.setProperty("--visible-height", `${viewport.height}px`);
  };
  viewport.addEventListener("resize", update);
  viewport.addEventListener("scroll", update);
  update();
}
