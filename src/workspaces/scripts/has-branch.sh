# Whether the person's clone has a local branch (one they made and never pushed): prints yes.
clone=$1 branch=$2
if [ -f "$clone/HEAD" ] && git -C "$clone" show-ref -q --verify "refs/heads/$branch"; then echo yes; fi
