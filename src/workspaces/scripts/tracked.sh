# Prints yes when the worktree $1's git tracks the path $2 (a repository's own file), else no.
if git -C "$1" ls-files --error-unmatch -- "$2" >/dev/null 2>&1; then echo yes; else echo no; fi
