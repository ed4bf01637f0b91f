/**
 * The banner every signed-in page shows while the Docker engine is not answering: Pier's own
 * /healthz says how the engine stands, asked every few seconds (and again when the page comes
 * back online or into view), so a page left open learns of it, and of its return, without a reload.
 */
const ASK_EVERY_MS = 5_000;

const banner = document.querySelector<HTMLElement>("[data-engine-banner]");
if (banner) watchEngine(banner);

function watchEngine(banner: HTMLElement): void {
  const ask = async () => {
    try {
      const health = (await (await fetch("/healthz", { cache: "no-store" })).json()) as { engine?: string };
      banner.hidden = health.engine !== "unreachable";
    } catch {
      // Pier itself did not answer: the page's own sockets say so; the banner is about the engine.
    }
  };
  void ask();
  setInterval(() => {
    if (document.visibilityState === "visible") void ask();
  }, ASK_EVERY_MS);
  window.addEventListener("online", () => void ask());
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") void ask();
  });
}
