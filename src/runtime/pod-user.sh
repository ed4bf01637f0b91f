# Gives the pod user (uid $1, gid $2) a name and a home when the image has none for it, so that
# what looks the user up finds one: bash's prompt ("I have no name!" otherwise), whoami, ssh, and
# HOME, which the engine takes from here for every command it starts in the pod. Pier runs this
# as root once, when it creates the pod; an image that has the user is left as it is. POSIX sh
# and coreutils only: it runs in whatever image the repository names.
#
# With a third argument, the environment's user (a devcontainer's remoteUser, a name Pier has
# checked): that user becomes the pod user. Its entry takes uid $1 and gid $2 and goes just before
# any other entry with that uid, so looking the uid up (whoami, HOME for each command) finds it
# first; its home is handed to it. This is what the devcontainer CLI's updateRemoteUserUID does,
# except that an image's own user of that uid stays as a second name instead of stopping it.
uid=$1 gid=$2 user=$3

# Whether FILE has an entry whose name (field 1) or id (field 3) is VALUE: listed FILE name|id VALUE.
# `|| [ -n ... ]` also takes a last line without a newline, which `read` would skip.
listed() {
  [ -f "$1" ] || return 1
  while IFS=: read -r entry _ number _ || [ -n "$entry" ]; do
    case $2 in name) [ "$entry" = "$3" ] && return 0 ;; id) [ "$number" = "$3" ] && return 0 ;; esac
  done < "$1"
  return 1
}

# Adds a line to FILE, on a line of its own even after a last line without a newline.
append() {
  if [ -s "$1" ] && [ -n "$(tail -c 1 "$1")" ]; then echo >> "$1"; fi
  echo "$2" >> "$1"
}

if [ -n "$user" ]; then
  listed /etc/passwd name "$user" || { echo "the image has no user $user" >&2; exit 1; }
  entry=$(awk -F: -v OFS=: -v name="$user" -v u="$uid" -v g="$gid" '$1 == name { $3 = u; $4 = g; print; exit }' /etc/passwd)
  home=$(echo "$entry" | cut -d: -f6)
  awk -F: -v name="$user" -v entry="$entry" -v u="$uid" '
    $1 == name { next }
    !placed && $3 == u { print entry; placed = 1 }
    { print }
    END { if (!placed) print entry }' /etc/passwd > /etc/passwd.pier || exit 1
  # Written over, not moved: /etc/passwd keeps its inode and mode.
  cat /etc/passwd.pier > /etc/passwd && rm -f /etc/passwd.pier
  listed /etc/group id "$gid" || append /etc/group "$user:x:$gid:"
  if [ -n "$home" ] && [ "$home" != / ] && [ -d "$home" ]; then chown -R "$uid:$gid" "$home"; fi
  exit 0
fi

listed /etc/passwd id "$uid" && exit 0
name=pier
listed /etc/passwd name "$name" && name=pier-$uid
home=/home/$name
shell=/bin/sh
[ -x /bin/bash ] && shell=/bin/bash
listed /etc/group id "$gid" || append /etc/group "$name:x:$gid:"
append /etc/passwd "$name:x:$uid:$gid:Pier:$home:$shell"
mkdir -p "$home" && chown "$uid:$gid" "$home" && chmod 0755 "$home"
