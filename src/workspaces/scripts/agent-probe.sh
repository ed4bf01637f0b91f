# What Pier needs to know to start an agent in this pod: the machine, whether the image's C library
# is musl, whether the CPU has AVX2 (opencode ships "baseline" builds for CPUs without it), and where
# a login shell (as the terminal's) finds each program named, unless that is Pier's own copy, with the
# version of the image's own node. $1: the directory of Pier's copies in this pod; the rest: program
# names. Prints key=value lines.
agent_facts() {
  local pier_dir=$1 glibc=0 loader mark name path
  shift
  echo "machine=$(uname -m)"
  # musl's loader alone: a glibc image may have musl installed beside it.
  for loader in /lib64/ld-linux-*.so.2 /lib/ld-linux-*.so.*; do [ -e "$loader" ] && glibc=1; done
  if [ "$glibc" = 0 ] && ls /lib/ld-musl-*.so.1 >/dev/null 2>&1; then echo "musl=1"; else echo "musl=0"; fi
  if grep -qw avx2 /proc/cpuinfo 2>/dev/null; then echo "avx2=1"; else echo "avx2=0"; fi
  # One login shell for all the names; each answer on a marked line of its own (a profile may print).
  # Only an absolute path counts (not a function or an alias), and never Pier's copy.
  while read -r mark name path; do
    [ "$mark" = pier-own ] || continue
    case $path in
      "$pier_dir"/*) continue ;;
      /*) ;;
      *) continue ;;
    esac
    echo "own.$name=$path"
    if [ "$name" = node ]; then echo "node.version=$(timeout 15 "$path" --version </dev/null 2>/dev/null | head -n 1)"; fi
  done < <(timeout 15 bash -lc 'for name; do printf "\npier-own %s %s\n" "$name" "$(command -v -- "$name")"; done' pier "$@" </dev/null 2>/dev/null)
}
