# Pushes a session's branch from the person's clone to the repo's remote. git asks Pier for the
# GitHub token through the clone's credential helper; nothing of it is stored or printed.
# With a third argument "lease", a rewritten branch (a rebase) replaces the remote's only if the
# remote is still where the clone last saw it, so nobody else's push is overwritten.
lease=()
[ "${3:-}" = lease ] && lease=(--force-with-lease)
git -C "$1" push --porcelain "${lease[@]}" origin "refs/heads/$2:refs/heads/$2"
