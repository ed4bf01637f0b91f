/**
 * "Needs you", on every page of a signed-in person: how many of their sessions need them, in the
 * page title and as a dot on the tab's icon; a browser notification for each new one when they
 * allowed notifications (unless this browser takes Pier's pushes, whose service worker shows them);
 * and the "Needs you" list on the dashboard kept current. On a session's own page it also tells
 * Pier while its person is looking (the page visible and focused), which clears that session's
 * reason and keeps new ones from being raised meanwhile.
 */
import { pushedHere } from "./push-device.ts";

interface NeedsYou {
  count: number;
  sessions: Array<{ id: string; title: string; repo: string; attention: string }>;
}

const LOOKING_EVERY_MS = 20_000;
const REASONS: Record<string, string> = {
  turn_end: "The agent finished its turn.",
  approval: "The agent waits for your approval.",
  bell: "The terminal rang its bell.",
  disk: "The disk is nearly full: Pier stopped what was filling it.",
  quiet: "The terminal went quiet.",
  feedback: "Someone sent its task back with feedback.",
  sign_in: "Your Claude sign-in has expired: paste a new token.",
  budget: "It reached a budget: Pier stopped its agent.",
};

const baseTitle = document.title;
const lookingAt = document.querySelector<HTMLElement>("[data-looking-session]")?.dataset.lookingSession ?? null;
const icon = document.querySelector<HTMLLinkElement>('link[rel="icon"]');
const plainIcon = icon?.href ?? "";
let known: Map<string, string> | null = null;
let pushed = false;

function show(state: NeedsYou): void {
  document.title = state.count > 0 ? `(${state.count}) ${baseTitle}` : baseTitle;
  void markIcon(state.count > 0);
  const previous = known;
  known = new Map(state.sessions.map((s) => [s.id, s.attention]));
  // The first answer says how things stand; only later raises are news.
  if (previous) {
    for (const session of state.sessions) {
      if (previous.get(session.id) === session.attention || session.id === lookingAt) continue;
      notify(session);
    }
  }
  for (const list of document.querySelectorAll<HTMLElement>("[data-needs-you-list]")) renderList(list, state);
}

function notify(session: NeedsYou["sessions"][number]): void {
  if (!("Notification" in window) || Notification.permission !== "granted" || pushed) return;
  const note = new Notification(`${session.title} needs you`, { body: `${session.repo}: ${REASONS[session.attention] ?? ""}`, tag: `pier-${session.id}`, icon: plainIcon });
  note.onclick = () => {
    window.focus();
    location.href = `/sessions/${session.id}`;
  };
}

function renderList(list: HTMLElement, state: NeedsYou): void {
  list.replaceChildren(
    ...state.sessions.map((session) => {
      const item = document.createElement("li");
      item.className = "list-row";
      const link = document.createElement("a");
      link.href = `/sessions/${session.id}`;
      link.className = "list-title";
      link.textContent = session.title;
      const why = document.createElement("span");
      why.className = "badge badge-waiting";
      why.textContent = REASONS[session.attention] ?? session.attention;
      const repo = document.createElement("span");
      repo.className = "muted";
      repo.textContent = session.repo;
      item.append(link, why, repo);
      return item;
    }),
  );
  const empty = list.parentElement?.querySelector<HTMLElement>("[data-needs-you-empty]");
  if (empty) empty.hidden = state.count > 0;
}

/** The tab's icon with a red dot while something needs the person. */
async function markIcon(on: boolean): Promise<void> {
  if (!icon) return;
  if (!on) {
    icon.href = plainIcon;
    return;
  }
  const image = new Image();
  image.src = plainIcon;
  await image.decode().catch(() => {});
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = 64;
  const context = canvas.getContext("2d");
  if (!context) return;
  context.drawImage(image, 0, 0, 64, 64);
  context.fillStyle = "#d1242f";
  context.beginPath();
  context.arc(48, 16, 14, 0, Math.PI * 2);
  context.fill();
  icon.href = canvas.toDataURL("image/png");
}

function listen(): void {
  const source = new EventSource("/api/attention/events");
  source.onmessage = (message) => show(JSON.parse(message.data) as NeedsYou);
}

/** Tells Pier whether the person looks at this session now; again every 20 s while they do. */
function watchLooking(sessionId: string): void {
  const say = (looking: boolean) =>
    fetch(`/api/sessions/${sessionId}/seen`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ looking }),
      keepalive: true,
    }).catch(() => {});
  const looking = () => document.visibilityState === "visible" && document.hasFocus();
  let said: boolean | null = null;
  const check = (force = false) => {
    const now = looking();
    if (now === said && !force) return;
    said = now;
    void say(now);
  };
  check();
  setInterval(() => check(said === true), LOOKING_EVERY_MS);
  document.addEventListener("visibilitychange", () => check());
  window.addEventListener("focus", () => check());
  window.addEventListener("blur", () => check());
  window.addEventListener("pagehide", () => void say(false));
}

listen();
if (lookingAt) watchLooking(lookingAt);
if ("Notification" in window && Notification.permission === "granted") void pushedHere().then((here) => (pushed = here), () => undefined);
