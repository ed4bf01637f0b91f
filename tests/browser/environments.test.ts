/**
 * A repository's environment in the browser: a new session's page shows the image build's lines
 * as they come and the environment commands' step; the repo page's Environment section at 390 px
 * (where it comes from, its image and ports, each refused key) without sideways scrolling; and
 * after a commit to the configuration, the session page's "Environment outdated" with Rebuild,
 * which makes the pod again and the notice goes. Real engine, pods on network none.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { ARTIFACTS, DESKTOP, PHONE, launchBrowser, sidewaysOverflow, signedInPage, watchErrors } from "../support/browser.ts";
import { commitFiles, makeRemoteRepo, type RemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, closeForGood, setUpAdmin, startTestPier } from "../support/pier.ts";
import { type SessionJson, activeSession, addRepo, waitForState } from "../support/sessions.ts";
import { until } from "../support/until.ts";
import { ensureTestWorkspaceImage } from "../support/workspace-image.ts";

let pier: TestPier;
let browser: Browser;
let cookie: string;
let image: string;
let remote: RemoteRepo;
let repoId: string;

const commit = (files: Record<string, string>, message: string) => commitFiles(remote, files, message);

const config = (value: string) =>
  JSON.stringify({
    build: { dockerfile: "Dockerfile", args: { VALUE: value } },
    mounts: ["source=/,target=/host,type=bind"],
    capAdd: ["SYS_PTRACE"],
    forwardPorts: [5173],
    portsAttributes: { "5173": { label: "Vite <dev> server" } },
    postCreateCommand: "for i in 1 2 3; do echo post-create-line-$i; sleep 0.3; done",
  });

beforeAll(async () => {
  image = await ensureTestWorkspaceImage();
  browser = await launchBrowser();
  pier = await startTestPier({ PIER_RUNTIME: "docker", PIER_POD_NETWORK: "none", PIER_WORKSPACE_IMAGE: image, PIER_ALLOW_LOCAL_REPOS: "1" });
  cookie = await setUpAdmin(pier);
  remote = makeRemoteRepo("shown");
  commit(
    {
      ".devcontainer/devcontainer.json": config("one"),
      ".devcontainer/Dockerfile": `FROM ${image}\nARG VALUE\nRUN for i in 1 2 3 4; do echo "building-step-$i"; sleep 0.5; done; echo "$VALUE" > /tmp/value\n`,
    },
    "Environment",
  );
  repoId = await addRepo(pier, cookie, remote.path, "shown");
}, 120_000);

afterAll(async () => {
  await browser?.close();
  // Its environment's image goes with its pods.
  if (pier) await closeForGood(pier);
}, 120_000);

test("a new session's page shows the environment build's lines as they come, then its commands' step", async () => {
  const { context, page } = await signedInPage(browser, pier.url, cookie, DESKTOP, 120_000);
  const errors = watchErrors(page);
  try {
    await page.goto(`${pier.url}/sessions/new?repoId=${repoId}`);
    await page.getByRole("button", { name: /start/i }).click();
    await page.waitForURL(/\/sessions\/[a-z0-9]+$/);
    const build = page.locator('[data-step="image"] .step-output');
    await build.filter({ hasText: "building-step-" }).waitFor();
    await page.screenshot({ path: join(ARTIFACTS, "environment-build.png") });
    const commands = page.locator('[data-step="environment"]');
    await commands.locator(".step-output").filter({ hasText: "post-create-line-" }).waitFor();
    await expect(commands.locator(".step-label").textContent()).resolves.toBe("Environment commands");
    // Active: the page reloads into the working layout.
    await page.locator(".workspace").waitFor({ timeout: 120_000 });
    expect(errors).toEqual([]);
  } finally {
    await context.close();
  }
}, 180_000);

test("the repo page's Environment section says where it comes from and each refused key, at 390 px", async () => {
  const { context, page } = await signedInPage(browser, pier.url, cookie, PHONE);
  const errors = watchErrors(page);
  try {
    await page.goto(`${pier.url}/repos/${repoId}`);
    const section = page.locator("#environment");
    await expect(section.locator("dd").first().textContent()).resolves.toBe("The repository's devcontainer");
    await expect(section.locator("[data-environment-state]").getAttribute("data-environment-state")).resolves.toBe("ready");
    // Text from the repository is shown as text.
    await expect(section.getByText("5173 (Vite <dev> server)").count()).resolves.toBe(1);
    const refused = await section.locator("[data-environment-refused] li code").allTextContents();
    expect(refused.sort()).toEqual(["capAdd", "mounts"]);
    expect(await sidewaysOverflow(page)).toBeLessThanOrEqual(0);
    await page.screenshot({ path: join(ARTIFACTS, "environment-repo-phone.png"), fullPage: true });
    expect(errors).toEqual([]);
  } finally {
    await context.close();
  }
});

test("after a commit to the configuration, the session page says the environment is outdated; Rebuild makes the pod again", async () => {
  const [session] = (await (await pier.fetch(`/api/sessions?repoId=${repoId}&state=active`, { headers: { cookie } })).json()) as SessionJson[];
  commit({ ".devcontainer/devcontainer.json": config("two") }, "A new value");
  // A new session fetches the repository; the person's pod was made from the old configuration.
  await activeSession(pier, cookie, { repoId });
  const { context, page } = await signedInPage(browser, pier.url, cookie, DESKTOP, 120_000);
  const errors = watchErrors(page);
  try {
    await page.goto(`${pier.url}/sessions/${session!.id}`);
    const outdated = page.locator("[data-environment-outdated]");
    await outdated.waitFor();
    page.once("dialog", (dialog) => void dialog.accept());
    await outdated.getByRole("button", { name: "Rebuild" }).click();
    const environment = async () => (await (await pier.fetch(`/api/repos/${repoId}/environment`, { headers: { cookie } })).json()) as { state: string; outdated: boolean };
    await until("the rebuild", environment, (e) => e.state === "ready" && !e.outdated, 180_000);
    const now = await waitForState(pier, cookie, session!.id, "active");
    const pod = await pier.pier.runtime.exec({ id: now.podId!, image: "" }, ["cat", "/tmp/value"], { cwd: "/", timeoutMs: 30_000 });
    expect(pod.stdout.trim()).toBe("two");
    await page.reload();
    await page.locator(".workspace").waitFor();
    expect(await page.locator("[data-environment-outdated]").count()).toBe(0);
    expect(errors).toEqual([]);
  } finally {
    await context.close();
  }
}, 300_000);
