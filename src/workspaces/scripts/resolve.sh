# Shared by the file scripts: the path a tool names, resolved as the pod sees it. The pod's own
# view of its filesystem is the boundary; these refusals keep the agent to the worktree.
told() { echo "$1" >&2; exit 3; }

# Sets $file to $2 (relative to the worktree $1, or absolute) with symlinks followed, refusing
# what leads outside the worktree or into its .git.
resolve_in_worktree() {
  local root plain target
  [ -n "$2" ] || told "A path is required."
  root=$(realpath -e -- "$1" 2>/dev/null) || told "The session's worktree is missing."
  case $2 in /*) target=$2 ;; *) target=$1/$2 ;; esac
  plain=$(realpath -m -s -- "$target")
  case $plain in "$1" | "$1"/* | "$root" | "$root"/*) ;; *) told "Refused: $2 is outside the session's worktree ($1)." ;; esac
  file=$(realpath -m -- "$target")
  case $file in "$root" | "$root"/*) ;; *) told "Refused: $2 leads outside the session's worktree through a symbolic link." ;; esac
  case ${file#"$root"/} in .git | .git/*) told "Refused: the .git directory is not for tools; use git commands." ;; esac
}
