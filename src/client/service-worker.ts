/**
 * Pier's service worker, served at /service-worker.js so that its scope is the whole origin. It
 * does one thing: shows each "needs you" push (src/push/message.ts) as a notification, and opens
 * the session when the notification is tapped. It caches nothing; pages load as they always do.
 */

// The DOM library's types know nothing of a service worker's own scope: these are the parts used here.
interface ExtendableEvent extends Event {
  waitUntil(promise: Promise<unknown>): void;
}
interface PushEvent extends ExtendableEvent {
  data: { json(): unknown } | null;
}
interface NotificationEvent extends ExtendableEvent {
  notification: Notification;
}
interface WindowClient {
  url: string;
  focus(): Promise<WindowClient>;
  navigate(url: string): Promise<WindowClient | null>;
}
interface WorkerScope {
  registration: ServiceWorkerRegistration;
  location: Location;
  clients: {
    matchAll(options: { type: "window"; includeUncontrolled: boolean }): Promise<WindowClient[]>;
    openWindow(url: string): Promise<WindowClient | null>;
    claim(): Promise<void>;
  };
  skipWaiting(): Promise<void>;
  addEventListener(type: "install" | "activate", listener: (event: ExtendableEvent) => void): void;
  addEventListener(type: "push", listener: (event: PushEvent) => void): void;
  addEventListener(type: "notificationclick", listener: (event: NotificationEvent) => void): void;
}

interface PushMessage {
  title: string;
  body: string;
  url: string;
  tag: string;
}

const worker = self as unknown as WorkerScope;

// A new version takes over at once: it holds no state that an old page could depend on.
worker.addEventListener("install", (event) => event.waitUntil(worker.skipWaiting()));
worker.addEventListener("activate", (event) => event.waitUntil(worker.clients.claim()));

worker.addEventListener("push", (event) => {
  // A push must always show something (browsers insist): a message that cannot be read still says Pier wants the person.
  const message = readMessage(event.data);
  event.waitUntil(
    worker.registration.showNotification(message.title, {
      body: message.body,
      tag: message.tag,
      icon: "/public/icon-192.png",
      data: { url: message.url },
    }),
  );
});

worker.addEventListener("notificationclick", (event) => {
  event.notification.close();
  event.waitUntil(openPage(ownUrl((event.notification.data as { url?: unknown } | null)?.url)));
});

function readMessage(data: PushEvent["data"]): PushMessage {
  const fallback = { title: "Pier", body: "Something needs you.", url: "/", tag: "pier" };
  try {
    const message = data?.json() as Partial<PushMessage> | undefined;
    if (!message || typeof message.title !== "string" || typeof message.body !== "string") return fallback;
    return { title: message.title, body: message.body, url: typeof message.url === "string" ? message.url : "/", tag: typeof message.tag === "string" ? message.tag : "pier" };
  } catch {
    return fallback;
  }
}

/** The message's page on Pier's own origin; anything else becomes the dashboard. */
function ownUrl(path: unknown): string {
  const origin = worker.location.origin;
  try {
    const url = new URL(typeof path === "string" ? path : "/", origin);
    return url.origin === origin ? url.href : `${origin}/`;
  } catch {
    return `${origin}/`;
  }
}

/**
 * A window already showing the page is brought forward; else a Pier window goes there (as the
 * page's own notification does); else, with Pier closed, a new one opens.
 */
async function openPage(url: string): Promise<void> {
  const windows = await worker.clients.matchAll({ type: "window", includeUncontrolled: true });
  const showing = windows.find((client) => client.url === url);
  if (showing) {
    await showing.focus();
    return;
  }
  for (const client of windows) {
    const moved = await client.navigate(url).catch(() => null);
    if (moved) {
      // Bringing it forward is the browser's to allow; the page is there either way.
      await moved.focus().catch(() => undefined);
      return;
    }
  }
  await worker.clients.openWindow(url);
}

// A module, so that the types above stay this file's own.
export {};
