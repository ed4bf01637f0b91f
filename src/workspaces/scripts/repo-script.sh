# Runs one of a repository's own scripts from Pier's settings (its setup or cleanup script) in a
# session's worktree, for the person, in their pod: in a login shell as the terminal's, with no
# input, its errors with its output, and stopped after $2 seconds (its whole process group, killed
# 5 s later if it lingers). Everything comes on stdout, in order, ending with a line "<$3> <exit
# code>" (124 or 137 when it was stopped): $3 is new for each run, so the script's own output is
# not taken for that line by accident. $1 the worktree, $4 the script.
wt=$1 seconds=$2 mark=$3 script=$4
if ! cd "$wt" 2>/dev/null; then
  printf 'The worktree %s is not there.\n%s 1\n' "$wt" "$mark"
  exit 0
fi
timeout -k 5 "$seconds" bash -lc "$script" </dev/null 2>&1
printf '\n%s %s\n' "$mark" "$?"
