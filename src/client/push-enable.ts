/**
 * The dashboard's one step to notifications: "Turn on notifications" installs Pier as an app where
 * the browser offers that, asks for the permission, registers Pier's service worker, subscribes
 * this browser to Web Push with Pier's key and gives Pier the subscription (POST /api/me/push), so
 * "needs you" reaches this device even with Pier closed. A browser without push (or whose push
 * service cannot be reached) keeps the notifications a Pier tab shows (attention.ts).
 */

import { pushedHere, rememberDevice } from "./push-device.ts";

/** Chromium's install offer, which it hands the page to show when the person asks. */
interface InstallPrompt extends Event {
  prompt(): Promise<unknown>;
}

const button = document.querySelector<HTMLButtonElement>("[data-enable-notifications]");
const status = document.querySelector<HTMLElement>("[data-notifications-status]");
const canPush = "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
/** How long subscribing may take: the browser asks its push service, which may not answer. */
const SUBSCRIBE_TIMEOUT_MS = 30_000;
let installPrompt: InstallPrompt | null = null;

function say(text: string): void {
  if (!status) return;
  status.textContent = text;
  status.hidden = false;
}

/** A name for this device on the Tokens page: its browser and system, as its user agent says. */
function deviceName(): string {
  const agent = navigator.userAgent;
  const system = /Android/.test(agent) ? "Android" : /iPhone|iPad/.test(agent) ? "iOS" : /CrOS/.test(agent) ? "ChromeOS" : /Mac OS X/.test(agent) ? "macOS" : /Windows/.test(agent) ? "Windows" : /Linux/.test(agent) ? "Linux" : "";
  const browser = /Firefox\//.test(agent) ? "Firefox" : /Edg\//.test(agent) ? "Edge" : /Chrom(e|ium)\//.test(agent) ? "Chrome" : /Safari\//.test(agent) ? "Safari" : "A browser";
  return system ? `${browser} on ${system}` : browser;
}

/** Gives Pier this browser's subscription; throws Pier's sentence when it refuses it. */
async function save(subscription: PushSubscription): Promise<void> {
  const res = await fetch("/api/me/push", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ ...subscription.toJSON(), name: deviceName() }),
  });
  const answer = (await res.json().catch(() => null)) as { id?: string; error?: { message?: string } } | null;
  if (!res.ok || !answer?.id) throw new Error(answer?.error?.message ?? `Pier answered ${res.status}.`);
  rememberDevice(answer.id);
}

function within<T>(promise: Promise<T>, ms: number, sentence: string): Promise<T> {
  return Promise.race([promise, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(sentence)), ms))]);
}

async function turnOn(): Promise<void> {
  if (!button) return;
  button.disabled = true;
  try {
    const asked = Notification.requestPermission();
    // In the same moment, while the click still counts as the person's (both need it): the browser's
    // offer to install Pier as an app, where it made one. Its answer is the person's; nothing waits on it.
    if (installPrompt) {
      void installPrompt.prompt().catch(() => undefined);
      installPrompt = null;
    }
    const permission = await asked;
    if (permission !== "granted") {
      say("Notifications are blocked for Pier in this browser's settings.");
      return;
    }
    if (!canPush) {
      say("This browser shows Pier's notifications only while a Pier tab is open.");
      button.hidden = true;
      return;
    }
    const registration = await navigator.serviceWorker.register("/service-worker.js", { scope: "/" });
    await navigator.serviceWorker.ready;
    const { publicKey } = (await (await fetch("/api/push/key")).json()) as { publicKey: string };
    const subscription = await within(
      registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: publicKey }),
      SUBSCRIBE_TIMEOUT_MS,
      "its push service did not answer",
    );
    await save(subscription);
    say("Notifications are on for this device: Pier tells you here when a session needs you, even with Pier closed.");
    button.hidden = true;
  } catch (error) {
    say(`This browser could not take push notifications (${error instanceof Error ? error.message : String(error)}); Pier still tells you while one of its tabs is open.`);
  } finally {
    button.disabled = false;
  }
}

/** Offers the button unless there is nothing left to turn on here. */
async function offer(): Promise<void> {
  if (!button || !("Notification" in window) || Notification.permission === "denied") return;
  if (Notification.permission === "granted" && (!canPush || (await pushedHere()))) return;
  button.hidden = false;
  button.addEventListener("click", () => void turnOn());
}

window.addEventListener("beforeinstallprompt", (event) => {
  event.preventDefault();
  installPrompt = event as InstallPrompt;
  if (button) button.textContent = "Install Pier and turn on notifications";
});

void offer();
