import { existsSync, statSync } from "node:fs";
import { isAbsolute } from "node:path";

/**
 * Decides whether a repository URL is safe to hand to git. Only plain https, ssh and
 * scp-style addresses pass; local paths only when the operator allows them. Anything git could
 * read as an option (a leading "-") or as a remote helper ("ext::…") is refused.
 * Returns null when acceptable, else one sentence saying why not.
 */
export function checkRepoUrl(url: string, allowLocal: boolean): string | null {
  if (url.length === 0) return "URL is required.";
  if (url.length > 2000) return "URL must be at most 2000 characters.";
  if (/[\s\x00-\x1f\x7f]/.test(url)) return "URL must not contain spaces or control characters.";
  if (url.startsWith("-")) return "URL must not start with \"-\".";
  if (/^[A-Za-z][A-Za-z0-9+.-]*::/.test(url)) return "Remote-helper URLs such as ext:: are not allowed.";

  if (/^https:\/\//i.test(url)) return checkUrlWithHost(url, "https:");
  if (/^http:\/\//i.test(url)) return checkLoopbackHttp(url, allowLocal);
  if (/^ssh:\/\//i.test(url)) return checkUrlWithHost(url, "ssh:");
  if (/^file:\/\//i.test(url) || url.startsWith("/")) return checkLocal(url, allowLocal);
  if (SCP_LIKE.test(url)) return null;
  return "URL must start with https:// or ssh://, or look like git@host:owner/repo.git.";
}

/** user@host:path, where the path does not start with "-" or "/" (that would be ssh:// or a local path). */
const SCP_LIKE = /^[A-Za-z0-9._-]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?:(?![-/])[A-Za-z0-9._~/-]+$/;

function checkUrlWithHost(raw: string, protocol: "https:" | "ssh:"): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "URL is not a valid address.";
  }
  if (url.protocol !== protocol || !url.hostname) return "URL must name a host.";
  if (url.hostname.startsWith("-")) return "URL host must not start with \"-\".";
  if (protocol === "https:" && (url.username || url.password)) {
    return "Leave credentials out of the URL; Pier uses the GitHub token from settings.";
  }
  if (url.password) return "Leave passwords out of the URL.";
  if (url.pathname.length <= 1) return "URL must include the repository path.";
  if (url.search || url.hash) return "URL must not have a query or fragment.";
  return null;
}

/**
 * Plain http only for a git server on this machine, and only where local repositories are
 * allowed: anywhere else it would send the GitHub token in the clear.
 */
function checkLoopbackHttp(raw: string, allowLocal: boolean): string | null {
  if (!allowLocal) return "URL must start with https:// or ssh://, or look like git@host:owner/repo.git.";
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "URL is not a valid address.";
  }
  if (!["127.0.0.1", "localhost", "[::1]"].includes(url.hostname)) return "Plain http:// is only for a git server on this machine (127.0.0.1).";
  if (url.username || url.password) return "Leave credentials out of the URL; Pier uses the GitHub token from settings.";
  if (url.pathname.length <= 1) return "URL must include the repository path.";
  if (url.search || url.hash) return "URL must not have a query or fragment.";
  return null;
}

function checkLocal(raw: string, allowLocal: boolean): string | null {
  if (!allowLocal) return "Local repositories are disabled; the server must run with PIER_ALLOW_LOCAL_REPOS=1.";
  let path = raw;
  if (/^file:\/\//i.test(raw)) {
    try {
      path = decodeURIComponent(new URL(raw).pathname);
    } catch {
      return "URL is not a valid file:// address.";
    }
  }
  if (!isAbsolute(path)) return "A local repository must be an absolute path.";
  if (!existsSync(path) || !statSync(path).isDirectory()) return `No directory at ${path}.`;
  return null;
}

/** The name a repo gets when none is given: the last path segment without ".git". */
export function nameFromUrl(url: string): string {
  const last = url.replace(/\/+$/, "").split(/[/:]/).pop() ?? "";
  return last.replace(/\.git$/, "");
}
