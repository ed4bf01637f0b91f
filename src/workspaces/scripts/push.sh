# Pushes a session's branch from the person's clone to the repo's remote. git asks Pier for the
# GitHub token through the clone's credential helper; nothing of it is stored or printed.
git -C "$1" push --porcelain origin "refs/heads/$2:refs/heads/$2"
