// The session page's preview pane (views/preview-views.tsx): the web apps listening in the
// session's pod, kept live from the session's events (src/http/session-events.ts), one shown in
// a frame on its own origin. The frame's src is Pier's /sessions/:id/ports/:port, which hands
// the preview origin a grant. The console script the proxy puts into the app's pages
// (src/previews/console-script.ts) tells the pane where the page is and what it logged; only
// messages from the frame itself, from the preview's own origin, are taken, and what they say is
// the app's words: "Send to chat" passes them on as data (POST /api/sessions/:id/preview-report).
// New ports are offered as they appear. Bundled into public/vendor/preview.js.

import type { SessionPort, SessionStreamEvent } from "../http/session-events.ts";
import { callApi } from "./api.ts";
import { el } from "./dom.ts";

declare global {
  interface Window {
    /** For the browser tests: the ports shown, the errors the shown page logged, and where it is. */
    pierPreview?: { ports(): number[]; errors(): string[]; href(): string | null };
  }
}

/** How long "Send to chat" waits for the page's own list of its errors before sending those heard. */
const ERRORS_ANSWER_MS = 1000;
/** The errors kept of the page shown, as many as a report takes. */
const MAX_ERRORS = 50;

const root = document.querySelector<HTMLElement>("[data-preview]");
if (root) startPreview(root, root.dataset.preview ?? "");

function startPreview(root: HTMLElement, sessionId: string): void {
  const find = <T extends Element = HTMLElement>(selector: string) => root.querySelector<T>(selector)!;
  const pane = document.getElementById("pane-preview")!;
  const workspace = pane.closest<HTMLElement>(".workspace")!;
  const empty = find("[data-preview-empty]");
  const bar = find("[data-preview-bar]");
  const picker = find<HTMLSelectElement>("[data-preview-port]");
  const originLabel = find("[data-preview-origin]");
  const address = find<HTMLFormElement>("[data-preview-go]");
  const pathInput = address.querySelector<HTMLInputElement>("input[name=path]")!;
  const width = find<HTMLSelectElement>("[data-preview-width]");
  const newTab = find<HTMLAnchorElement>("[data-preview-open]");
  const status = find("[data-preview-status]");
  const stage = find("[data-preview-stage]");
  const frame = find<HTMLIFrameElement>("[data-preview-frame]");
  const sendButton = root.querySelector<HTMLButtonElement>("[data-preview-send]");
  const framed = root.dataset.previewFramed === "yes";
  const count = pane.querySelector<HTMLElement>("[data-pane-count]");

  let ports: SessionPort[] = [];
  let shown: SessionPort | null = null;
  /** What the frame was last sent to, and whether it has been since the port was chosen. */
  let loadedSrc: string | null = null;
  /** The page's own word for where it is (the console script's), null until it speaks. */
  let href: string | null = null;
  let errors: string[] = [];
  /** The console script's id of the page it speaks for. */
  let doc: string | null = null;
  let heardOf: Set<number> | null = null;
  let errorsAnswer: ((errors: string[]) => void) | null = null;

  const say = (text: string) => (status.textContent = text);
  const srcFor = (port: SessionPort, path: string) => `${port.url}?path=${encodeURIComponent(path)}`;
  const isShown = () => root.offsetParent !== null;
  const describe = (port: SessionPort) =>
    [String(port.port), port.label, port.process && `(${port.process})`, port.from && `from “${port.from.title}”`].filter(Boolean).join(" ");

  /** Sends the frame to `path` of the port shown (each time through Pier, which grants it anew). */
  const load = (path: string) => {
    if (!shown) return;
    const src = srcFor(shown, path);
    newTab.href = src;
    pathInput.value = path;
    if (!framed || !isShown()) return;
    errors = [];
    href = null;
    loadedSrc = src;
    frame.src = src;
  };

  const choose = (port: SessionPort, path = "/") => {
    shown = port;
    picker.value = String(port.port);
    originLabel.textContent = port.origin;
    say(notice(port));
    loadedSrc = null;
    load(path);
  };

  /** What the pane says of a port it cannot show in its frame, or nothing. */
  const notice = (port: SessionPort): string => {
    if (!framed) return "This Pier serves previews over plain http on their own domain, where a framed preview cannot keep its sign-in: open it in a new tab.";
    const here = location.hostname;
    const loopback = here === "localhost" || here === "127.0.0.1" || here === "[::1]" || here.endsWith(".localhost");
    if (new URL(port.origin).hostname.endsWith(".localhost") && !loopback) {
      return "Previews are served on *.localhost, the viewing device's own address: they open only in a browser on the machine Pier runs on (or through an SSH tunnel to it). An admin can serve them on a domain of their own with PIER_PREVIEW_DOMAIN.";
    }
    return "";
  };

  /** Unfolds the pane (or, on a phone, picks its tab). */
  const reveal = () => {
    const tab = document.getElementById("tab-preview");
    if (tab && getComputedStyle(tab.parentElement!).display !== "none") tab.click();
    if (pane.classList.contains("collapsed")) pane.querySelector<HTMLButtonElement>("[data-collapse]")?.click();
  };

  /** A line above the workspace offering a port that has just started listening. */
  const offer = (port: SessionPort) => {
    document.querySelector(`[data-preview-offer="${port.port}"]`)?.remove();
    const line = el("p", { class: "notice preview-offer", role: "status", "data-preview-offer": String(port.port) });
    const open = el("button", { type: "button", class: "small primary" }, "Open the preview");
    const dismiss = el("button", { type: "button", class: "small" }, "Dismiss");
    open.addEventListener("click", () => {
      line.remove();
      const now = ports.find((p) => p.port === port.port);
      if (now) choose(now);
      reveal();
    });
    dismiss.addEventListener("click", () => line.remove());
    line.append(`Port ${describe(port)} is listening in the pod. `, open, " ", dismiss);
    workspace.before(line);
  };

  const render = (list: SessionPort[]) => {
    ports = list;
    if (count) count.textContent = String(list.length);
    empty.hidden = list.length > 0;
    bar.hidden = list.length === 0;
    stage.hidden = list.length === 0 || !framed;
    picker.replaceChildren(...list.map((port) => el("option", { value: String(port.port) }, describe(port))));
    const fresh = heardOf ? list.filter((port) => !heardOf!.has(port.port)) : [];
    const first = heardOf === null;
    heardOf = new Set(list.map((port) => port.port));
    for (const gone of document.querySelectorAll<HTMLElement>("[data-preview-offer]")) {
      if (!heardOf.has(Number(gone.dataset.previewOffer))) gone.remove();
    }
    const still = shown && list.find((port) => port.port === shown!.port);
    if (still) {
      shown = still;
      picker.value = String(still.port);
    } else if (shown) {
      // Pier's page for a port that does not listen looks again by itself, so the frame stays.
      say(`Port ${shown.port} stopped listening; the preview comes back when it listens again.`);
    }
    // The repository's app port opens by itself; any other new one is offered.
    const app = list.find((port) => port.app);
    if (!shown && list.length > 0) choose(app ?? list[0]!);
    if (app && (first || fresh.includes(app))) reveal();
    else for (const port of fresh) if (!isShown() || shown?.port !== port.port) offer(port);
  };

  // The frame loads once the pane is shown (unfolded, or its tab picked), not before.
  new ResizeObserver(() => {
    if (shown && isShown() && loadedSrc === null) load(pathInput.value || "/");
  }).observe(root);

  picker.addEventListener("change", () => {
    const port = ports.find((p) => String(p.port) === picker.value);
    if (port) choose(port);
  });
  address.addEventListener("submit", (event) => {
    event.preventDefault();
    const path = pathInput.value.trim();
    load(path.startsWith("/") ? path : `/${path}`);
  });
  find("[data-preview-reload]").addEventListener("click", () => load(href ? pathOf(href) : pathInput.value || "/"));
  const tell = (order: string) => {
    if (shown && loadedSrc) frame.contentWindow?.postMessage({ pier: order }, shown.origin);
  };
  find("[data-preview-back]").addEventListener("click", () => tell("back"));
  find("[data-preview-forward]").addEventListener("click", () => tell("forward"));
  width.addEventListener("change", () => {
    frame.style.width = width.value ? `${width.value}px` : "";
    if (width.value) stage.dataset.width = width.value;
    else delete stage.dataset.width;
  });

  // Only the frame's own page, on the preview's origin, is heard; its words are data.
  window.addEventListener("message", (event) => {
    if (!shown || event.source !== frame.contentWindow || event.origin !== shown.origin) return;
    const data = event.data as { pier?: string; url?: unknown; text?: unknown; errors?: unknown; doc?: unknown } | null;
    // A page loaded anew (the app's own navigation, or a reload) starts with none of the last one's errors.
    if (typeof data?.doc === "string" && data.doc !== doc) {
      doc = data.doc;
      errors = [];
      say(notice(shown));
    }
    if (typeof data?.url === "string" && data.url.startsWith(`${shown.origin}/`)) {
      href = data.url;
      pathInput.value = pathOf(data.url);
      newTab.href = srcFor(shown, pathInput.value);
    }
    if (data?.pier === "error" && typeof data.text === "string") {
      if (errors.length === MAX_ERRORS) errors.shift();
      errors.push(data.text);
      say(`The page logged ${errors.length} console error${errors.length === 1 ? "" : "s"}.`);
    }
    if (data?.pier === "errors" && Array.isArray(data.errors) && errorsAnswer) {
      errorsAnswer(data.errors.filter((e): e is string => typeof e === "string").slice(-MAX_ERRORS));
    }
  });

  sendButton?.addEventListener("click", async () => {
    if (!shown) return;
    sendButton.disabled = true;
    // The page's own list is exact (heard lines may predate a reload); without an answer, what was heard.
    const asked = new Promise<string[]>((resolve) => {
      errorsAnswer = resolve;
      setTimeout(() => resolve(errors.slice()), ERRORS_ANSWER_MS);
    });
    tell("errors");
    const lines = await asked;
    errorsAnswer = null;
    const url = href ?? `${shown.origin}${pathInput.value || "/"}`;
    const sent = await callApi<{ message: string }>(`/api/sessions/${sessionId}/preview-report`, {
      method: "POST",
      body: JSON.stringify({ port: shown.port, url: url.slice(0, 2048), errors: lines.map((line) => line.slice(0, 2000)) }),
    });
    sendButton.disabled = false;
    say(sent.ok ? `Sent to the chat: the page's address and ${lines.length} console error${lines.length === 1 ? "" : "s"}.` : sent.message);
  });

  wireShare(root, sessionId, () => shown, say);

  window.pierPreview = { ports: () => ports.map((port) => port.port), errors: () => errors.slice(), href: () => href };
  const source = new EventSource(`/api/sessions/${sessionId}/events`);
  source.onmessage = (message) => {
    const event = JSON.parse(message.data) as SessionStreamEvent;
    if (event.type === "ports") render(event.ports);
  };
}

/** A preview address's path, query and fragment: what the URL bar shows. */
function pathOf(url: string): string {
  const parsed = new URL(url);
  return `${parsed.pathname}${parsed.search}${parsed.hash}`;
}

/** The pane's public link: made for some minutes, shown to copy, revoked. */
function wireShare(root: HTMLElement, sessionId: string, shown: () => SessionPort | null, say: (text: string) => void): void {
  const form = root.querySelector<HTMLFormElement>("[data-preview-share]");
  if (!form) return;
  const link = form.querySelector<HTMLElement>("[data-preview-share-link]")!;
  const revoke = form.querySelector<HTMLButtonElement>("[data-preview-revoke]")!;
  let sharedPort: number | null = null;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const port = shown();
    if (!port) return;
    const minutes = Number(new FormData(form).get("minutes"));
    const made = await callApi<{ url: string; expiresAt: string }>(`/api/sessions/${sessionId}/ports/${port.port}/share`, {
      method: "POST",
      body: JSON.stringify({ minutes }),
    });
    if (!made.ok) return say(made.message);
    sharedPort = port.port;
    link.textContent = made.data.url;
    link.hidden = false;
    revoke.hidden = false;
    say(`Anyone with the link sees port ${port.port} until ${new Date(made.data.expiresAt).toLocaleString()}.`);
  });
  revoke.addEventListener("click", async () => {
    if (sharedPort === null) return;
    const response = await fetch(`/api/sessions/${sessionId}/ports/${sharedPort}/share`, { method: "DELETE" }).catch(() => null);
    if (!response || (!response.ok && response.status !== 404)) return say("The link could not be revoked; try again.");
    say(`The public link to port ${sharedPort} no longer works.`);
    sharedPort = null;
    link.hidden = true;
    revoke.hidden = true;
  });
}
