# Ends a session's worktree: anything uncommitted is saved as a commit on its branch first (the
# message comes on stdin, never pushed), and only then is the worktree removed. If saving fails,
# nothing is removed. Prints saved=<commit> (when it saved) and unpushed=<count>.
set -uo pipefail
clone=$1 wt=$2 branch=$3
if [ -e "$wt/.git" ]; then
  if [ -n "$(git -C "$wt" status --porcelain | head -c 1)" ]; then
    git -C "$wt" add --all || exit 1
    git -C "$wt" commit -q --no-verify --no-gpg-sign -F - || exit 1
    echo "saved=$(git -C "$wt" rev-parse HEAD)"
  fi
  git -C "$clone" worktree remove --force -- "$wt" || exit 1
fi
git -C "$clone" worktree prune
echo "unpushed=$(git -C "$clone" rev-list --count "refs/heads/$branch" --not --remotes=origin 2>/dev/null || echo 0)"
