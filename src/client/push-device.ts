/**
 * Whether this browser is one of the signed-in person's push devices: it holds a push subscription,
 * and the id Pier gave that subscription when saved here is still in their list (they may have
 * removed it on the Tokens page, or someone else may have saved it since).
 */

/** Where this browser keeps the id Pier gave its subscription. */
const DEVICE_KEY = "pier-push-device";

export async function currentSubscription(): Promise<PushSubscription | null> {
  if (!("serviceWorker" in navigator) || !("PushManager" in window)) return null;
  const registration = await navigator.serviceWorker.getRegistration("/");
  return registration ? registration.pushManager.getSubscription() : null;
}

export function rememberDevice(id: string): void {
  localStorage.setItem(DEVICE_KEY, id);
}

export async function pushedHere(): Promise<boolean> {
  const subscription = await currentSubscription().catch(() => null);
  const id = localStorage.getItem(DEVICE_KEY);
  if (!subscription || !id) return false;
  const res = await fetch("/api/me/push");
  return res.ok && ((await res.json()) as Array<{ id: string }>).some((device) => device.id === id);
}
