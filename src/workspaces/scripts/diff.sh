# The session's changes against its base, bounded: the worktree as it is (committed or not, new
# files listed) while it exists, else the branch's commits. Three sections, each one base64 line:
# the file list (git diff --raw --numstat -z), the untracked paths (-z), and the patch cut by
# cut-patch.awk ($7) to $5 bytes per file and $6 overall.
set -uo pipefail
clone=$1 wt=$2 base=$3 branch=$4 per=$5 total=$6 cut=$7
if [ -e "$wt/.git" ]; then dir=$wt; range=("$base"); else dir=$clone; range=("$base" "refs/heads/$branch"); fi
d() { git -C "$dir" -c core.quotePath=false diff --no-ext-diff --no-textconv --no-renames "$@" "${range[@]}" --; }
d --raw --numstat -z | head -c 4000000 | base64 -w0; echo
if [ "$dir" = "$wt" ]; then git -C "$wt" ls-files --others --exclude-standard -z | head -c 1000000 | base64 -w0; fi
echo
d --patch | awk -v per="$per" -v total="$total" "$cut" | base64 -w0; echo
