# Run when the workspaces' disk is nearly full: stops (SIGSTOP, so nothing is lost and the
# person decides) each of the pod user's processes holding open, for writing, a file of the
# workspace ($1) that grew by at least $2 bytes in a fifth of a second. The person's shell holds
# no such file, so their terminal keeps working and they can free space.
# Prints "stopped|interrupted<TAB>pid<TAB>bytes grown<TAB>command<TAB>file" for each, then
# "usage<TAB>KiB" with what the workspace holds.
workspace=$1
min_growth=$2
declare -A size_before

# Every open file of the workspace open for writing, as "pid/fd".
writable_files() {
  local info flags
  for info in /proc/[0-9]*/fdinfo/*; do
    [ "${info%%/fdinfo/*}" = "/proc/$$" ] && continue
    flags=$(while read -r key value; do [ "$key" = flags: ] && { echo "$value"; break; }; done 2>/dev/null < "$info") || continue
    [ -n "$flags" ] && (( (8#$flags & 3) != 0 )) || continue
    local fd=${info/\/fdinfo\//\/fd\/}
    local target
    target=$(readlink "$fd" 2>/dev/null) || continue
    case $target in "$workspace"/*) ;; *) continue ;; esac
    echo "${fd#/proc/}"
  done
}

for id in $(writable_files); do
  size_before[$id]=$(stat -Lc %s "/proc/$id" 2>/dev/null) || unset "size_before[$id]"
done
sleep 0.2
declare -A stopped
for id in "${!size_before[@]}"; do
  pid=${id%%/*}
  [ -n "${stopped[$pid]}" ] && continue
  now=$(stat -Lc %s "/proc/$id" 2>/dev/null) || continue
  grown=$(( now - size_before[$id] ))
  (( grown >= min_growth )) || continue
  # Names are the pod's own: no tab or newline of theirs may pass for another line of this output.
  command=$(tr '\0\t\n' '   ' < "/proc/$pid/cmdline" 2>/dev/null | cut -c1-120)
  file=$(readlink "/proc/$id" 2>/dev/null) || continue
  file=${file//[$'\t\n']/?}
  # A terminal's shell (it leads its session) writing itself, as `while …; done > file` does,
  # is never stopped, or the person could type no more: its terminal's foreground is
  # interrupted instead, as Ctrl+C would.
  stat=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
  read -r _state _ppid _pgrp session _tty foreground _ <<< "${stat##*) }"
  if [ "$session" = "$pid" ]; then
    (( foreground > 0 )) && kill -INT -- "-$foreground" 2>/dev/null || continue
    how=interrupted
  else
    kill -STOP "$pid" 2>/dev/null || continue
    how=stopped
  fi
  stopped[$pid]=1
  printf '%s\t%s\t%s\t%s\t%s\n' "$how" "$pid" "$grown" "${command% }" "$file"
done
printf 'usage\t%s\n' "$(du -skx "$workspace" 2>/dev/null | cut -f1)"
