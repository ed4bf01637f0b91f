/**
 * Web Push in Chromium, with a profile of its own (Chromium refuses push in an off-the-record
 * context). The dashboard's "Turn on notifications" registers Pier's service worker at the
 * origin's root under Pier's CSP and subscribes for real: Chromium asks its push service (GCM)
 * for the subscription, here stand-ins of its check-in and registration on 127.0.0.1
 * (tests/support/gcm-stand-in.ts), and makes its own keys. The endpoint it gets is on Google's
 * push service, which this machine can neither resolve nor reach, so the test carries the page's
 * POST of the subscription on to Pier with that endpoint pointed at the push service stand-in
 * on 127.0.0.1 (this Pier allows private endpoints); Chromium's keys go unchanged. A turn that
 * ends with the session's tab closed then reaches that stand-in once, VAPID-signed, encrypted
 * for Chromium's key. Only Chromium can decrypt that, and it cannot be reached here as its push
 * service would reach it, so the payload Pier sent a second device of the same person (keys the
 * test holds, decrypted by the stand-in) is handed to the service worker as its push service
 * would (DevTools' ServiceWorker.deliverPushMessage): the notification names the session, and
 * its click takes the Pier window there. Chromium has no way to click a notification headless:
 * the test dispatches the notificationclick the browser would, with the notification it shows.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BrowserContext, Page } from "playwright-core";
import { ARTIFACTS, launchProfile, watchErrors } from "../support/browser.ts";
import { ChatClient } from "../support/chat-client.ts";
import { type FakeAnthropic, startFakeAnthropic } from "../support/fake-anthropic.ts";
import { type GcmStandIn, startGcmStandIn } from "../support/gcm-stand-in.ts";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, closeForGood, setUpAdmin, startTestPier } from "../support/pier.ts";
import { type PushServiceStandIn, browserKeys, startPushService } from "../support/push-service.ts";
import { type SessionJson, activeSession, addRepo } from "../support/sessions.ts";
import { until } from "../support/until.ts";

const API_KEY = "sk-ant-browser-push-0123";

let anthropic: FakeAnthropic;
let gcm: GcmStandIn;
let service: PushServiceStandIn;
let pier: TestPier;
let cookie: string;
let session: SessionJson;
let profile: string;
let context: BrowserContext;

const api = async (path: string, init: RequestInit = {}) => {
  const res = await pier.fetch(path, { ...init, headers: { cookie, origin: pier.url, "content-type": "application/json", ...init.headers } });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
};

beforeAll(async () => {
  gcm = startGcmStandIn();
  service = startPushService();
  anthropic = await startFakeAnthropic({ apiKey: API_KEY });
  pier = await startTestPier({ PIER_RUNTIME: "local", PIER_ALLOW_LOCAL_REPOS: "1", PIER_PUSH_ALLOW_PRIVATE: "1", ANTHROPIC_BASE_URL: anthropic.url });
  cookie = await setUpAdmin(pier);
  await api("/api/settings", { method: "PUT", body: JSON.stringify({ anthropicApiKey: API_KEY, quietSeconds: 0 }) });
  const repoId = await addRepo(pier, cookie, `file://${makeRemoteRepo("browser-push").path}`, "browser-push");
  session = await activeSession(pier, cookie, { repoId, title: "Browser push session" });
  profile = mkdtempSync(join(tmpdir(), "pier-push-profile-"));
  context = await launchProfile(profile, gcm.chromiumArgs);
  const [name, value] = cookie.split("=") as [string, string];
  await context.addCookies([{ name, value, url: pier.url }]);
  await context.grantPermissions(["notifications"], { origin: pier.url });
}, 120_000);

afterAll(async () => {
  await context?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
  if (pier) await closeForGood(pier);
  await anthropic?.stop();
  await service?.stop();
  await gcm?.stop();
}, 60_000);

/** The page's POST of Chromium's subscription, carried on to Pier with its endpoint at the stand-in (see the top of this file). */
async function carrySubscriptionToStandIn(page: Page): Promise<{ sent: () => Record<string, any> | null }> {
  let sent: Record<string, any> | null = null;
  await page.route("**/api/me/push", async (route) => {
    if (route.request().method() !== "POST") return route.continue();
    sent = route.request().postDataJSON();
    await route.continue({ postData: JSON.stringify({ ...sent, endpoint: service.endpoint("chromium") }) });
  });
  return { sent: () => sent };
}

test("one step on the dashboard subscribes this browser with Pier's key; a turn ending with the session's tab closed pushes it once; the notification names the session and its click opens it; Tokens removes the device", async () => {
  const page = await context.newPage();
  const errors = watchErrors(page);
  const carried = await carrySubscriptionToStandIn(page);
  await page.goto(`${pier.url}/`);
  // "Install Pier and turn on notifications" once Chromium offers to install Pier as an app.
  const button = page.getByRole("button", { name: /turn on notifications/i });
  await button.click();
  await page.getByRole("status").filter({ hasText: "Notifications are on for this device" }).waitFor();
  expect(await button.isHidden()).toBe(true);

  // Chromium subscribed with Pier's VAPID key, and gave Pier its own keys.
  const { publicKey } = (await api("/api/push/key")).body;
  const registration = gcm.registrations.find((each) => each.sender === publicKey);
  expect(registration).toBeDefined();
  const subscription = carried.sent()!;
  expect(subscription.endpoint).toEndWith(`/fcm/send/${registration!.token}`);
  expect(Buffer.from(subscription.keys.p256dh, "base64url")).toHaveLength(65);
  expect(Buffer.from(subscription.keys.auth, "base64url")).toHaveLength(16);
  expect(subscription.name).toBe("Chrome on Linux");

  // The service worker is Pier's own, at the origin's root, served under Pier's CSP.
  const worker = await page.evaluate(async () => {
    const registered = await navigator.serviceWorker.getRegistration("/");
    return { scope: registered?.scope, script: registered?.active?.scriptURL, controlled: navigator.serviceWorker.controller !== null };
  });
  expect(worker).toEqual({ scope: `${pier.url}/`, script: `${pier.url}/service-worker.js`, controlled: true });
  const script = await pier.fetch("/service-worker.js");
  expect(script.headers.get("content-type")).toStartWith("text/javascript");
  expect(script.headers.get("content-security-policy")).toContain("script-src 'self'");

  // The device is listed on Tokens, and the dashboard no longer offers the step.
  const devices = (await api("/api/me/push")).body as Array<{ id: string; name: string; service: string }>;
  expect(devices).toEqual([expect.objectContaining({ name: "Chrome on Linux", service: new URL(service.url).host })]);
  await page.reload();
  await page.getByRole("heading", { name: "Needs you" }).waitFor();
  await page.waitForLoadState("networkidle");
  expect(await button.isHidden()).toBe(true);

  // A second device of the same person, whose keys the test holds, to read what Pier sends.
  const mirror = browserKeys();
  expect((await api("/api/me/push", { method: "POST", body: JSON.stringify({ endpoint: service.endpoint("mirror", { status: 201 }, mirror), keys: mirror.json, name: "Mirror" }) })).status).toBe(201);

  // The session's page open, then closed: its person is no longer looking.
  const sessionPage = await context.newPage();
  await sessionPage.goto(`${pier.url}/sessions/${session.id}`);
  await until("the session page says it is looked at", async () => pier.pier.attention.isLooking(session.id), (looking) => looking, 20_000);
  await sessionPage.close({ runBeforeUnload: true });
  await until("the closed tab said so", async () => pier.pier.attention.isLooking(session.id), (looking) => !looking, 20_000);

  const chat = await ChatClient.connect(pier.url, session.id, { cookie, origin: pier.url });
  anthropic.script({ text: "Done." });
  await chat.turn("Finish up.");
  chat.close();
  await until("both devices' pushes", async () => [service.to("chromium").length, service.to("mirror").length], ([a, b]) => a === 1 && b === 1, 15_000);
  await Bun.sleep(500);
  expect(service.to("chromium")).toHaveLength(1);
  const [toChromium] = service.to("chromium");
  expect(toChromium!.vapid).toMatchObject({ aud: service.url, publicKey });
  // aes128gcm for Chromium's key: a 16-byte salt, a record size, and Pier's one-time P-256 key as the keyid.
  expect(toChromium!.body[20]).toBe(65);
  expect(toChromium!.body[21]).toBe(4);
  const message = service.to("mirror")[0]!.message as { title: string; body: string; url: string };
  expect(message).toMatchObject({ title: "Browser push session", url: `/sessions/${session.id}` });
  expect(service.problems).toEqual([]);

  // What the push service would hand Chromium, to its service worker; Chromium's DevTools say when it shows the notification.
  const devtools = await context.newCDPSession(page);
  const registrationId = new Promise<string>((resolve) => {
    devtools.on("ServiceWorker.workerRegistrationUpdated", ({ registrations }) => {
      const ours = registrations.find((each) => each.scopeURL === `${pier.url}/` && !each.isDeleted);
      if (ours) resolve(ours.registrationId);
    });
  });
  await devtools.send("ServiceWorker.enable");
  const displayed = new Promise<{ instanceId: string; eventMetadata: Array<{ key: string; value: string }> }>((resolve) => {
    devtools.on("BackgroundService.backgroundServiceEventReceived", ({ backgroundServiceEvent: event }) => {
      if (event.service === "notifications" && event.eventName === "Notification displayed") resolve(event);
    });
  });
  await devtools.send("BackgroundService.startObserving", { service: "notifications" });
  await devtools.send("BackgroundService.setRecording", { shouldRecord: true, service: "notifications" });
  await devtools.send("ServiceWorker.deliverPushMessage", { origin: pier.url, registrationId: await registrationId, data: JSON.stringify(message) });
  const notice = await displayed;
  expect(notice.instanceId).toBe(`pier-${session.id}`);
  expect(Object.fromEntries(notice.eventMetadata.map(({ key, value }) => [key, value]))).toEqual({ Title: "Browser push session", Body: "browser-push: The agent finished its turn." });
  // Asked only once it is shown: Chromium forgets a notification it is asked for while still showing it.
  const shown = await page.evaluate(async () => (await (await navigator.serviceWorker.ready).getNotifications()).map((each) => ({ title: each.title, tag: each.tag, data: each.data })));
  expect(shown).toEqual([{ title: "Browser push session", tag: `pier-${session.id}`, data: { url: `/sessions/${session.id}` } }]);
  await page.screenshot({ path: join(ARTIFACTS, "push-dashboard.png") });

  // Its click: the Pier window goes to the session.
  const serviceWorker = context.serviceWorkers().find((each) => each.url() === `${pier.url}/service-worker.js`)!;
  await serviceWorker.evaluate(async () => {
    const scope = self as unknown as { registration: ServiceWorkerRegistration; dispatchEvent(event: Event): boolean };
    const [notification] = await scope.registration.getNotifications();
    const NotificationEvent = (self as unknown as { NotificationEvent: new (type: string, init: { notification: Notification }) => Event }).NotificationEvent;
    scope.dispatchEvent(new NotificationEvent("notificationclick", { notification: notification! }));
  });
  await page.waitForURL(`${pier.url}/sessions/${session.id}`);

  // Removed on Tokens: Pier sends it nothing more, and the dashboard offers the step again.
  await page.goto(`${pier.url}/tokens`);
  const row = page.getByRole("list", { name: "Your devices" }).getByRole("listitem").filter({ hasText: "Chrome on Linux" });
  await row.getByText(`through ${new URL(service.url).host}`).waitFor();
  await page.locator("#devices").screenshot({ path: join(ARTIFACTS, "push-devices.png") });
  page.once("dialog", (dialog) => void dialog.accept());
  await row.getByRole("button", { name: "Remove" }).click();
  await until("the device removed", async () => ((await api("/api/me/push")).body as Array<{ name: string }>).map((each) => each.name), (names) => !names.includes("Chrome on Linux"), 10_000);
  await page.goto(`${pier.url}/`);
  await button.waitFor();
  expect(errors).toEqual([]);
}, 120_000);
