# Pier's own files in a session's worktree: .mcp.json, .claude/settings.local.json and
# .claude/skills/<name>/SKILL.md. They come
# on stdin as lines "<path><TAB><content in base64>" (no lines: Pier gives none), are kept out of git
# through the clone's info/exclude (shared by its worktrees), so no commit, saved work or git status
# ever holds them, and go again once Pier stops giving them. A file the repository tracks itself is
# left alone, as the repo's own wins: `kept=<path>` says so. The list of what Pier wrote is kept in
# the worktree's own git dir. It runs on every session's start, so it asks git once, not per file.
is_session_file() {
  [[ $1 =~ ^(\.mcp\.json|\.claude/settings\.local\.json|\.claude/skills/[a-z0-9]+(-[a-z0-9]+)*/SKILL\.md)$ ]]
}
sync_session_files() {
  local clone=$1 wt=$2 gitdir list path data line dir
  local -a paths=() contents=() previous=()
  local -A tracked=() excluded=() given=()
  while IFS=$'\t' read -r path data; do
    [ -n "$path" ] || continue
    is_session_file "$path" || { echo "Pier does not write $path into a worktree." >&2; return 1; }
    paths+=("$path")
    contents+=("$data")
  done
  gitdir=$(git -C "$wt" rev-parse --absolute-git-dir)
  list="$gitdir/pier-files"
  # The list is the pod's to change: only what Pier could have written counts.
  [ -f "$list" ] && while IFS= read -r path; do
    if is_session_file "$path"; then previous+=("$path"); fi
  done < "$list"
  # Which of these the repository tracks, in one go.
  if [ $((${#paths[@]} + ${#previous[@]})) -gt 0 ]; then
    while IFS= read -r -d '' path; do tracked[$path]=1; done < <(git -C "$wt" --literal-pathspecs ls-files -z -- "${paths[@]}" "${previous[@]}")
  fi
  [ -d "$clone/info" ] || mkdir -p "$clone/info"
  [ -f "$clone/info/exclude" ] && while IFS= read -r line; do [ -z "$line" ] || excluded[$line]=1; done < "$clone/info/exclude"
  local i
  for i in "${!paths[@]}"; do
    path=${paths[$i]}
    if [ -n "${tracked[$path]:-}" ]; then
      echo "kept=$path"
      continue
    fi
    [ -n "${excluded[/$path]:-}" ] || echo "/$path" >> "$clone/info/exclude"
    dir=${path%/*}
    [ "$dir" = "$path" ] || [ -d "$wt/$dir" ] || mkdir -p -- "$wt/$dir"
    base64 -d <<< "${contents[$i]}" > "$wt/$path"
    given[$path]=1
  done
  for path in "${previous[@]}"; do
    [ -z "${given[$path]:-}" ] && [ -z "${tracked[$path]:-}" ] || continue
    rm -f -- "$wt/$path"
    dir=${path%/*}
    [ "$dir" = "$path" ] || (cd "$wt" && rmdir -p -- "$dir" 2>/dev/null) || true
  done
  if [ ${#given[@]} -gt 0 ]; then printf '%s\n' "${!given[@]}" > "$list"; else : > "$list"; fi
}
