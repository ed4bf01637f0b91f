# The session's changes against its base, bounded: the worktree as it is (committed or not, new
# files with their content) while it exists, else the branch's commits. Four lines: the file list
# (git diff --raw --numstat -z), the new (untracked, not ignored) paths (-z), 1 if there were more
# new paths than it lists, and the patch cut by cut-patch.awk ($7) to $5 bytes per file and $6
# overall; each but the third in base64. New paths are listed while their names, each counted with
# 64 bytes more for its entries in the file list, fit in $8 bytes: that bounds both their number
# and what their names take.
#
# New files reach the diff as git's own intent-to-add entries (`git add -N`), made in a copy of the
# worktree's index, so the person's index and files stay exactly as they were. Git lists only
# regular files and symlinks as untracked: a FIFO or a device is never opened, a symlink shows its
# target and is never followed, a binary file is said to differ, and a file past
# core.bigFileThreshold counts as binary. A directory listed (a repository inside the worktree) is
# listed but not added.
set -uo pipefail
clone=$1 wt=$2 base=$3 branch=$4 per=$5 total=$6 cut=$7 budget=$8
untracked=() more=0
if [ -e "$wt/.git" ]; then
  dir=$wt range=("$base")
  used=0
  while IFS= read -r -d '' path; do
    used=$((used + ${#path} + 64))
    if [ "$used" -gt "$budget" ]; then more=1; break; fi
    untracked+=("$path")
  done < <(git -C "$wt" ls-files --others --exclude-standard -z | head -c $((budget + 4097)))
  if [ ${#untracked[@]} -gt 0 ]; then
    tmp=$(mktemp -d) || exit 1
    trap 'rm -rf -- "$tmp"' EXIT
    cp -- "$(git -C "$wt" rev-parse --path-format=absolute --git-path index)" "$tmp/index" || exit 1
    # A path gone since it was listed would fail the whole add: leave out what is gone, and try
    # once more when a file went in the moment between.
    add_new() {
      local path
      for path in "${untracked[@]}"; do
        if [ "${path%/}" = "$path" ] && { [ -e "$wt/$path" ] || [ -L "$wt/$path" ]; }; then printf '%s\0' "$path"; fi
      done | GIT_INDEX_FILE=$tmp/index GIT_LITERAL_PATHSPECS=1 git -C "$wt" add --intent-to-add --pathspec-from-file=- --pathspec-file-nul
    }
    add_new || add_new || exit 1
    export GIT_INDEX_FILE=$tmp/index
  fi
else
  dir=$clone range=("$base" "refs/heads/$branch")
fi
d() { git -C "$dir" -c core.quotePath=false diff --no-ext-diff --no-textconv --no-renames "$@" "${range[@]}" --; }
d --raw --numstat -z | head -c 4000000 | base64 -w0; echo
if [ ${#untracked[@]} -gt 0 ]; then printf '%s\0' "${untracked[@]}" | base64 -w0; fi
echo
echo "$more"
d --patch | awk -v per="$per" -v total="$total" "$cut" | base64 -w0; echo
