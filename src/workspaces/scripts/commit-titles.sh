# The titles of the commits on a branch that its base does not have, oldest first (at most 50).
git -C "$1" log --reverse --format=%s --max-count=50 "$2..refs/heads/$3" 2>/dev/null || true
