/**
 * Whether `path` is a path inside the repository as a DevcontainerConfig gives it: relative, in
 * POSIX form, with no empty, "." or ".." segment, and not starting with ":" (git would read that
 * as pathspec magic). The parser promises this already; the builder asks again before a path
 * names anything it reads from the mirror or writes on the server's disk ("" is the root).
 */
export function isRepoPath(path: string): boolean {
  if (path === "") return true;
  if (path.startsWith(":") || path.includes("\0") || path.includes("\\")) return false;
  return path.split("/").every((segment) => segment !== "" && segment !== "." && segment !== "..");
}
