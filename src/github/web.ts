/** The web side of the GitHub that GITHUB_API_URL points at. */
export interface GitHubWeb {
  /** e.g. https://github.com, or https://ghe.example.com for GitHub Enterprise. */
  origin: string;
  /** e.g. github.com: the host whose remotes get the token, and whose PR links are Pier's. */
  host: string;
  /** "https", or "http" for a GitHub on this machine (tests). */
  protocol: string;
}

/**
 * The web side of a GitHub API URL: api.github.com → github.com, and GitHub Enterprise's
 * https://host/api/v3 → https://host. Tokens are only ever handed to that host.
 */
export function githubWeb(apiUrl: string): GitHubWeb {
  const url = new URL(apiUrl);
  const host = url.host === "api.github.com" ? "github.com" : url.host;
  const protocol = url.protocol.replace(/:$/, "");
  return { origin: `${protocol}://${host}`, host, protocol };
}

const NAME_PART = "[A-Za-z0-9_.-]+";
const OWNER_NAME = new RegExp(`^(${NAME_PART})/(${NAME_PART}?)(?:\\.git)?/?$`);

/**
 * "owner/name" when a repository URL is on the GitHub host (https://host/owner/name(.git),
 * ssh://git@host/owner/name.git, git@host:owner/name.git), else null.
 */
export function githubRepoFromUrl(url: string, web: GitHubWeb): string | null {
  let host: string;
  let path: string;
  const scp = url.match(/^[A-Za-z0-9._-]+@([^:/]+):(.+)$/);
  if (scp) {
    host = scp[1]!;
    path = scp[2]!;
  } else {
    try {
      const parsed = new URL(url);
      if (!["https:", "http:", "ssh:"].includes(parsed.protocol)) return null;
      host = parsed.protocol === "ssh:" ? parsed.hostname : parsed.host;
      path = decodeURIComponent(parsed.pathname.replace(/^\//, ""));
    } catch {
      return null;
    }
  }
  const webHostname = web.host.replace(/:\d+$/, "");
  if (host !== web.host && host !== webHostname) return null;
  const match = path.match(OWNER_NAME);
  return match ? `${match[1]}/${match[2]}` : null;
}

/** Whether a value is a plausible "owner/name". */
export function isGithubRepo(value: string): boolean {
  return new RegExp(`^${NAME_PART}/${NAME_PART}$`).test(value) && !value.endsWith(".git");
}

/**
 * The pull requests of one repository linked in text (a URL on the web host), in order of
 * appearance. A number counts only once something other than a digit follows it, so a link
 * whose end has not arrived yet is not read short.
 */
export function pullRequestLinkPattern(web: GitHubWeb, githubRepo: string): RegExp {
  const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`${escape(web.origin)}/${escape(githubRepo)}/pull/(\\d+)(?=\\D)`, "gi");
}
