# Gives the pod user (uid $1, gid $2) a name and a home when the image has none for it, so that
# what looks the user up finds one: bash's prompt ("I have no name!" otherwise), whoami, ssh, and
# HOME, which the engine takes from here for every command it starts in the pod. Pier runs this
# as root once, when it creates the pod; an image that has the user is left as it is. POSIX sh
# and coreutils only: it runs in whatever image the repository names.
uid=$1 gid=$2

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

listed /etc/passwd id "$uid" && exit 0
name=pier
listed /etc/passwd name "$name" && name=pier-$uid
home=/home/$name
shell=/bin/sh
[ -x /bin/bash ] && shell=/bin/bash
listed /etc/group id "$gid" || append /etc/group "$name:x:$gid:"
append /etc/passwd "$name:x:$uid:$gid:Pier:$home:$shell"
mkdir -p "$home" && chown "$uid:$gid" "$home" && chmod 0755 "$home"
