// Parts of a page drawn again from the server while the person is on it. The server renders the
// same markup as on the first load, so the browser never has its own copy of how a task looks;
// what the person was typing, which disclosures were open and where the focus was carry over.

declare global {
  interface Window {
    /** htmx, loaded by every page; it only wires up what it swapped in itself, or is shown. */
    htmx?: { process(element: Element): void };
  }
}

/** The HTML of a page or a fragment from Pier, or null when it is gone (404) or could not be had. */
export async function fetchHtml(url: string): Promise<{ status: number; html: string | null }> {
  try {
    const response = await fetch(url, { headers: { accept: "text/html" } });
    return { status: response.status, html: response.ok ? await response.text() : null };
  } catch {
    return { status: 0, html: null };
  }
}

/** The first element of an HTML fragment. */
export function elementFrom(html: string): Element | null {
  const template = document.createElement("template");
  template.innerHTML = html;
  return template.content.firstElementChild;
}

/** Replaces each element of this page matching `selector` that has an id with the element of that id in `html` (a whole page). */
export function replaceRegions(html: string, selector: string): void {
  const fresh = new DOMParser().parseFromString(html, "text/html");
  for (const current of document.querySelectorAll(selector)) {
    const replacement = current.id ? fresh.getElementById(current.id) : null;
    if (replacement) replaceRegion(current, document.adoptNode(replacement));
  }
}

/** Puts `fresh` where `current` is, keeping typed values, open disclosures and the focus (matched by id). */
export function replaceRegion(current: Element, fresh: Element): void {
  for (const field of current.querySelectorAll<HTMLInputElement | HTMLTextAreaElement>("textarea[id], input[id]:not([type=hidden])")) {
    const twin = fresh.querySelector<HTMLInputElement | HTMLTextAreaElement>(`#${CSS.escape(field.id)}`);
    if (twin && field.value !== field.defaultValue) twin.value = field.value;
  }
  for (const select of current.querySelectorAll<HTMLSelectElement>("select[id]")) {
    const twin = fresh.querySelector<HTMLSelectElement>(`#${CSS.escape(select.id)}`);
    const chosen = [...select.options].find((option) => option.defaultSelected)?.value ?? select.options[0]?.value;
    if (twin && select.value !== chosen && [...twin.options].some((option) => option.value === select.value)) twin.value = select.value;
  }
  for (const details of current.querySelectorAll<HTMLDetailsElement>("details[id]")) {
    const twin = fresh.querySelector<HTMLDetailsElement>(`#${CSS.escape(details.id)}`);
    if (twin) twin.open = details.open;
  }
  const focused = document.activeElement;
  const hadFocus = focused instanceof HTMLElement && current.contains(focused);
  current.replaceWith(fresh);
  window.htmx?.process(fresh);
  if (!hadFocus) return;
  const twin = focused.id ? fresh.querySelector<HTMLElement>(`#${CSS.escape(focused.id)}`) : null;
  if (twin) twin.focus({ preventScroll: true });
  else if (fresh instanceof HTMLElement) {
    // What had the focus is gone (a button the new state no longer offers): keep the place nearby.
    fresh.tabIndex = -1;
    fresh.focus({ preventScroll: true });
  }
}

/**
 * Runs `refresh` when asked, never two at once: asks that come while one runs make one more run
 * after it, so a burst of events costs two requests at most and the last state always shows.
 */
export function serialRunner(refresh: () => Promise<void>): () => void {
  let running = false;
  let again = false;
  const run = async () => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        await refresh();
      } while (again);
    } finally {
      running = false;
    }
  };
  return () => void run();
}
