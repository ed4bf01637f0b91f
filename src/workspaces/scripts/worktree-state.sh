# Whether a session's worktree is there: a person may delete it by hand from a shell in the pod.
# Prints present=1 or present=0; asked ($2=1), also head=<commit> <subject> of what it has checked out.
set -uo pipefail
wt=$1 head=${2:-0}
if [ -e "$wt/.git" ]; then
  echo present=1
  [ "$head" != 1 ] || git -C "$wt" log -1 --format='head=%H %s' 2>/dev/null
else
  echo present=0
fi
