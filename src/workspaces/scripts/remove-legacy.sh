# Removes a repo's clone from before pods were per person once every person who had work in it has
# taken their branches into their own clone: everything in the old shared directory ($1). The
# directory itself is this pod's mount point, so it stays, empty. Prints "removed" when done.
set -euo pipefail
find "$1" -mindepth 1 -delete
echo removed
