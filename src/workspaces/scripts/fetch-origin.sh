# Brings the clone's view of the remote (origin/*) up to date from the mirror, which Pier has just
# fetched: a run's agent rebases onto the base as it is now when its pull request conflicts.
git -C "$1" fetch -q --prune --no-tags "$2" '+refs/heads/*:refs/remotes/origin/*'
