# Writes stdin to a worktree file, making its directories. First prints "created", or "existed
# <size>" and at most $3 bytes of what was there (base64, one line), for the diff.
resolve_in_worktree "$1" "$2"
if [ -e "$file" ]; then
  [ -f "$file" ] || told "$2 is not a regular file."
  echo "existed $(stat -c %s -- "$file")"
  head -c "$3" -- "$file" | base64 -w0
  echo
else
  echo created
fi
mkdir -p -- "$(dirname -- "$file")" || exit 1
cat > "$file"
