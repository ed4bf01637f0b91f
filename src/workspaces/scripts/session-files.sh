# Pier's own files in a session's worktree: .mcp.json, .claude/settings.local.json and
# .claude/skills/<name>/SKILL.md. They come
# on stdin as lines "<path><TAB><content in base64>" (no lines: Pier gives none), are kept out of git
# through the clone's info/exclude (shared by its worktrees), so no commit, saved work or git status
# ever holds them, and go again once Pier stops giving them. A file the repository tracks itself is
# left alone, as the repo's own wins: `kept=<path>` says so. The list of what Pier wrote is kept in
# the worktree's own git dir.
sync_session_files() {
  local clone=$1 wt=$2 gitdir list given path data dir
  gitdir=$(git -C "$wt" rev-parse --absolute-git-dir)
  list="$gitdir/pier-files"
  given=$(mktemp)
  mkdir -p "$clone/info"
  while IFS=$'\t' read -r path data; do
    [ -n "$path" ] || continue
    [[ $path =~ ^(\.mcp\.json|\.claude/settings\.local\.json|\.claude/skills/[a-z0-9]+(-[a-z0-9]+)*/SKILL\.md)$ ]] || { echo "Pier does not write $path into a worktree." >&2; rm -f "$given"; return 1; }
    if git -C "$wt" ls-files --error-unmatch -- "$path" >/dev/null 2>&1; then
      echo "kept=$path"
      continue
    fi
    grep -qxF "/$path" "$clone/info/exclude" 2>/dev/null || echo "/$path" >> "$clone/info/exclude"
    [ "${path%/*}" = "$path" ] || mkdir -p -- "$wt/${path%/*}"
    printf '%s' "$data" | base64 -d > "$wt/$path"
    echo "$path" >> "$given"
  done
  if [ -f "$list" ]; then
    while IFS= read -r path; do
      grep -qxF -- "$path" "$given" && continue
      git -C "$wt" ls-files --error-unmatch -- "$path" >/dev/null 2>&1 && continue
      rm -f -- "$wt/$path"
      dir=${path%/*}
      [ "$dir" = "$path" ] || (cd "$wt" && rmdir -p -- "$dir" 2>/dev/null) || true
    done < "$list"
  fi
  mv -f "$given" "$list"
}
