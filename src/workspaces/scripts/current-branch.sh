# The branch checked out in a worktree now (nothing when it is gone or HEAD is detached).
git -C "$1" symbolic-ref --short -q HEAD 2>/dev/null || true
