# Replaces a worktree file's content with stdin, in place (it keeps its owner and mode), only if
# it is still what was read (sha256 $3): an edit never overwrites a change made in between.
resolve_in_worktree "$1" "$2"
[ -f "$file" ] || told "No file at $2."
[ "$(sha256sum -- "$file" | cut -d' ' -f1)" = "$3" ] || told "$2 changed while it was being edited; read it again and retry."
cat > "$file"
