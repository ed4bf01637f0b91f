# What ending the session would do: its uncommitted paths (git status -z, as one base64 line)
# and the number of commits on its branch that no remote branch has.
set -uo pipefail
clone=$1 wt=$2 branch=$3
if [ -e "$wt/.git" ]; then git -C "$wt" status --porcelain=v1 -z --no-renames | head -c 1000000 | base64 -w0; fi
echo
git -C "$clone" rev-list --count "refs/heads/$branch" --not --remotes=origin 2>/dev/null || echo 0
