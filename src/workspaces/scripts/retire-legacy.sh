# Retires a repo's clone from before pods were per person ($1, in the old shared directory): for
# each live session's worktree (the rest of the arguments, as worktree/branch/session triples),
# saves anything uncommitted as a commit on its branch (the message comes on stdin), then removes
# the worktree. Prints "saved <session> <commit>" for each save, and "clone" if the clone exists.
set -uo pipefail
clone=$1
shift
message=$(cat)
while [ $# -ge 3 ]; do
  wt=$1 branch=$2 session=$3
  shift 3
  [ -e "$wt/.git" ] || continue
  if [ -n "$(git -C "$wt" status --porcelain | head -c 1)" ]; then
    # The worktree's own identity when it has one (Pier set one per worktree), else Pier's.
    who=()
    git -C "$wt" config user.email >/dev/null || who=(-c user.name=Pier -c user.email=pier@users.pier.local)
    git -C "$wt" add --all && git -C "$wt" "${who[@]}" commit -q --no-verify --no-gpg-sign -m "$message" || { echo "could not save $session on $branch" >&2; exit 1; }
    echo "saved $session $(git -C "$wt" rev-parse HEAD)"
  fi
  git -C "$clone" worktree remove --force -- "$wt" || exit 1
done
if [ -f "$clone/HEAD" ]; then echo clone; fi
