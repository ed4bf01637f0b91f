# Every file of the worktree but .git's, NUL-separated, at most $2 bytes of names.
cd -- "$1" 2>/dev/null || { echo "The session's worktree is missing." >&2; exit 3; }
find . -path ./.git -prune -o -type f -print0 | head -c "$2"
