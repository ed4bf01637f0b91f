import { githubRepoFromUrl, githubWeb, pullRequestLinkPattern } from "../../src/github/web.ts";
import { describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isValidBranchName } from "../../src/repos/git-ref.ts";
import { checkRepoUrl, nameFromUrl } from "../../src/repos/git-url.ts";

describe("checkRepoUrl", () => {
  const local = mkdtempSync(join(tmpdir(), "pier-url-"));

  const accepted = [
    "https://github.com/acme/widgets.git",
    "https://gitlab.example.com:8443/group/sub/repo",
    "ssh://git@github.com/acme/widgets.git",
    "ssh://git@git.example.com:2222/acme/widgets.git",
    "git@github.com:acme/widgets.git",
    "deploy@git.example.com:team/repo",
  ];
  for (const url of accepted) {
    test(`accepts ${url}`, () => expect(checkRepoUrl(url, false)).toBeNull());
  }

  const refused: Array<[string, RegExp]> = [
    ["ext::sh -c touch% /tmp/pwned", /spaces or control/],
    ["ext::sh", /Remote-helper/],
    ["fd::17", /Remote-helper/],
    ["--upload-pack=touch /tmp/x", /spaces|start with "-"/],
    ["--upload-pack=x", /must not start with "-"/],
    ["-oProxyCommand=x", /must not start with "-"/],
    ["https://github.com/acme/widgets.git ", /spaces/],
    [" https://github.com/acme/widgets.git", /spaces/],
    ["https://github.com/ac\tme/w.git", /spaces or control/],
    ["https://github.com/acme/w.git\n--upload-pack=x", /control/],
    ["https://user:pass@github.com/acme/w.git", /credentials/],
    ["http://github.com/acme/widgets.git", /must start with https/],
    ["ftp://example.com/repo.git", /must start with https/],
    ["https://github.com", /repository path/],
    ["git@github.com:-oProxyCommand=x", /must start with https/],
    ["git@-host:acme/w.git", /must start with https/],
    ["ssh://-oProxyCommand=x/repo", /host|valid/],
    ["", /required/],
  ];
  for (const [url, why] of refused) {
    test(`refuses ${JSON.stringify(url)}`, () => expect(checkRepoUrl(url, false)).toMatch(why));
  }

  test("local paths and file:// need PIER_ALLOW_LOCAL_REPOS", () => {
    expect(checkRepoUrl(`file://${local}`, false)).toMatch(/PIER_ALLOW_LOCAL_REPOS=1/);
    expect(checkRepoUrl(local, false)).toMatch(/PIER_ALLOW_LOCAL_REPOS=1/);
    expect(checkRepoUrl(`file://${local}`, true)).toBeNull();
    expect(checkRepoUrl(local, true)).toBeNull();
    expect(checkRepoUrl(join(local, "missing"), true)).toMatch(/No directory/);
  });

  test("plain http only for a git server on this machine, and only with PIER_ALLOW_LOCAL_REPOS", () => {
    expect(checkRepoUrl("http://127.0.0.1:8080/octo/widgets.git", false)).toMatch(/must start with https/);
    expect(checkRepoUrl("http://127.0.0.1:8080/octo/widgets.git", true)).toBeNull();
    expect(checkRepoUrl("http://localhost/octo/widgets.git", true)).toBeNull();
    expect(checkRepoUrl("http://github.com/octo/widgets.git", true)).toMatch(/only for a git server on this machine/);
    expect(checkRepoUrl("http://10.0.0.5/octo/widgets.git", true)).toMatch(/only for a git server on this machine/);
    expect(checkRepoUrl("http://x:y@127.0.0.1/octo/widgets.git", true)).toMatch(/credentials/);
  });

  test("names come from the last path segment", () => {
    expect(nameFromUrl("https://github.com/acme/widgets.git")).toBe("widgets");
    expect(nameFromUrl("git@github.com:acme/gadgets.git")).toBe("gadgets");
    expect(nameFromUrl("/srv/git/thing/")).toBe("thing");
  });
});

describe("isValidBranchName", () => {
  for (const name of ["main", "feature/login", "pier/ada/abcd1234", "release-1.2", "fix_#12"]) {
    test(`accepts ${name}`, () => expect(isValidBranchName(name)).toBe(true));
  }
  for (const name of ["-x", "--upload-pack=x", "a..b", "has space", "tab\there", "ctl\x01", "a~1", "a^", "a:b", "a?", "a*", "a[b",
    "a\\b", "/lead", "trail/", "end.", "x.lock", "a//b", ".hidden", "a/.b", "@", "a@{1}", ""]) {
    test(`refuses ${JSON.stringify(name)}`, () => expect(isValidBranchName(name)).toBe(false));
  }
});

describe("GitHub repositories from URLs", () => {
  const github = githubWeb("https://api.github.com");
  const enterprise = githubWeb("https://ghe.example.com/api/v3");
  const local = githubWeb("http://127.0.0.1:9999/api/v3");

  test("the web side of the API URL", () => {
    expect(github).toEqual({ origin: "https://github.com", host: "github.com", protocol: "https" });
    expect(enterprise).toEqual({ origin: "https://ghe.example.com", host: "ghe.example.com", protocol: "https" });
    expect(local).toEqual({ origin: "http://127.0.0.1:9999", host: "127.0.0.1:9999", protocol: "http" });
  });

  for (const [url, web, expected] of [
    ["https://github.com/acme/widgets.git", github, "acme/widgets"],
    ["https://github.com/acme/widgets", github, "acme/widgets"],
    ["git@github.com:acme/widgets.git", github, "acme/widgets"],
    ["ssh://git@github.com/acme/widgets.git", github, "acme/widgets"],
    ["https://ghe.example.com/team/app.git", enterprise, "team/app"],
    ["http://127.0.0.1:9999/octo/widgets.git", local, "octo/widgets"],
    ["https://gitlab.com/acme/widgets.git", github, null],
    ["https://github.com/acme/widgets/extra", github, null],
    ["file:///srv/git/widgets.git", github, null],
  ] as const) {
    test(`${url} → ${expected}`, () => expect(githubRepoFromUrl(url, web)).toBe(expected));
  }

  test("PR links of the repo on its web host, nothing else", () => {
    const text = "see https://github.com/acme/widgets/pull/12 and https://github.com/acme/widgets/pull/345, not https://github.com/acme/other/pull/7 or https://github.com/acme/widgets/issues/9";
    expect([...text.matchAll(pullRequestLinkPattern(github, "acme/widgets"))].map((m) => Number(m[1]))).toEqual([12, 345]);
  });
});
