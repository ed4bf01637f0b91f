# Prints a worktree file's size, its sha256 when $4 is 1, then at most $3 bytes of it.
resolve_in_worktree "$1" "$2"
[ -e "$file" ] || told "No file at $2."
[ -f "$file" ] || told "$2 is not a regular file."
stat -c %s -- "$file" || exit 1
if [ "$4" = 1 ]; then sha256sum -- "$file" | cut -d' ' -f1; fi
head -c "$3" -- "$file"
