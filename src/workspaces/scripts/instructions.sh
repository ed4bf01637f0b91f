# The repo's instruction files (CLAUDE.md, AGENTS.md, …): for each name, one line with at most $2
# bytes of it in base64, or an empty line when it is missing, not a regular file, or leads outside
# the worktree (a symlink to /proc/self/environ, say). A FIFO is never opened.
wt=$1 max=$2
shift 2
root=$(realpath -e -- "$wt" 2>/dev/null) || root=
for name in "$@"; do
  f=$([ -n "$root" ] && realpath -e -- "$wt/$name" 2>/dev/null) || f=
  case $f in "$root"/*) ;; *) f= ;; esac
  if [ -n "$f" ] && [ -f "$f" ]; then head -c "$max" -- "$f" | base64 -w0; fi
  echo
done
