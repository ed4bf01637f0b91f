# What Pier needs to know to give this pod Claude Code: the machine, whether the image's C library
# is musl, and the image's own `claude` (as a login shell finds it), unless that is Pier's copy.
# $1: the directory of Pier's copy in this pod. Prints key=value lines. Run on its own, or by the
# first session's prepare.sh in a pod Pier has not seen yet (one exec fewer).
claude_code_facts() {
  local pier_dir=$1 glibc=0 loader own
  echo "machine=$(uname -m)"
  # musl's loader alone: a glibc image may have musl installed beside it.
  for loader in /lib64/ld-linux-*.so.2 /lib/ld-linux-*.so.*; do [ -e "$loader" ] && glibc=1; done
  if [ "$glibc" = 0 ] && ls /lib/ld-musl-*.so.1 >/dev/null 2>&1; then echo "musl=1"; else echo "musl=0"; fi
  # A login shell, as the terminal's: the person's profile may put their own claude on PATH.
  # Its last line only (a profile may print), and only an absolute path that is not Pier's copy.
  own=$(timeout 15 bash -lc 'command -v claude' </dev/null 2>/dev/null | tail -n 1)
  case $own in
    "$pier_dir"/*) own= ;;
    /*) ;;
    *) own= ;;
  esac
  echo "claude=$own"
}
