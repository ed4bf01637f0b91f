/**
 * Keeps the dashboard current without a reload: the server nudges on its events stream whenever
 * something the dashboard shows changes, and the page fetches its live part again (once for a burst
 * of nudges) and puts it in place.
 */
const live = document.querySelector<HTMLElement>("[data-dashboard-live]");
const QUIET_MS = 300;

if (live) {
  let timer: ReturnType<typeof setTimeout> | null = null;
  let fetching = false;
  let again = false;
  const refresh = async () => {
    if (fetching) {
      again = true;
      return;
    }
    fetching = true;
    try {
      const res = await fetch(live.dataset.dashboardLive!, { headers: { accept: "text/html" } });
      if (res.ok) live.innerHTML = await res.text();
    } finally {
      fetching = false;
      if (again) {
        again = false;
        void refresh();
      }
    }
  };
  const source = new EventSource("/api/dashboard/events");
  source.onmessage = (message) => {
    if ((JSON.parse(message.data) as { type: string }).type !== "changed") return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => void refresh(), QUIET_MS);
  };
  // Back from sleep or another tab: what changed meanwhile may have been missed.
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") void refresh();
  });
}
