/**
 * Whether a branch name is one git accepts (git-check-ref-format rules for a branch) and that
 * can never be read as a command-line option.
 */
export function isValidBranchName(name: string): boolean {
  if (name.length === 0 || name.length > 255) return false;
  if (name.startsWith("-") || name.startsWith("/") || name.endsWith("/") || name.endsWith(".")) return false;
  if (name === "@" || name.endsWith(".lock") || name.includes("..") || name.includes("@{") || name.includes("//")) return false;
  if (/[\x00-\x20\x7f~^:?*[\\]/.test(name)) return false;
  return name.split("/").every((part) => part.length > 0 && !part.startsWith(".") && !part.endsWith(".lock"));
}
