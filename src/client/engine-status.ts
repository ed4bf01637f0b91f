/**
 * The banner every signed-in page shows while a Docker engine is not answering: Pier's own
 * /healthz says how each engine stands, asked every few seconds (and again when the page comes
 * back online or into view), so a page left open learns of it, and of its return, without a reload.
 * A session's page speaks only of the engine its pod is on (data-docker-engine): a session on
 * another engine carries on, and its page says nothing.
 */
const ASK_EVERY_MS = 5_000;

interface Health {
  engine?: string;
  /** Each engine by name: "ok" or "unreachable". */
  dockerEngines?: Record<string, string>;
}

const banner = document.querySelector<HTMLElement>("[data-engine-banner]");
if (banner) watchEngine(banner);

function watchEngine(banner: HTMLElement): void {
  const mine = banner.dataset.dockerEngine;
  const usual = banner.textContent?.trim() ?? "";
  const ask = async () => {
    try {
      const health = (await (await fetch("/healthz", { cache: "no-store" })).json()) as Health;
      const down = Object.entries(health.dockerEngines ?? {}).filter(([, state]) => state === "unreachable").map(([name]) => name);
      const shown = mine ? down.includes(mine) : health.engine === "unreachable";
      banner.hidden = !shown;
      if (shown) banner.textContent = sentence(mine ? [mine] : down, Boolean(mine), usual);
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

/** What the banner says: the page's own words for the local engine alone, else the engines by name. */
function sentence(down: string[], ownSession: boolean, usual: string): string {
  if (down.every((name) => name === "local")) return usual;
  const named = down;
  const which = `The Docker engine${named.length === 1 ? "" : "s"} ${named.join(", ")} ${named.length === 1 ? "is" : "are"} not answering`;
  return ownSession
    ? `${which}: this session's terminal and chat wait for it, and your session comes back when it does. Nothing of your work is lost.`
    : `${which}: terminals and new sessions on ${named.length === 1 ? "it" : "them"} wait for it to come back. Everything else works, and nothing of your work is lost.`;
}
