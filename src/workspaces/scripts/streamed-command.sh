# Runs a command of the repository's in the person's pod with its output streamed (a repo's setup
# or cleanup script, a devcontainer's lifecycle command): in directory $1, with no input, its
# errors with its output, and stopped after $2 seconds (its whole process group, killed 5 s later
# if it lingers). Everything comes on stdout, in order, ending with a line "<$3> <exit code>" (124
# or 137 when it was stopped): $3 is new for each run, so the command's own output is not taken
# for that line by accident, and a process it leaves running in the background (which may hold
# its output open) cannot keep Pier waiting for the end. The rest of the arguments are the command.
# POSIX sh: it runs in whatever image the repository names.
dir=$1 seconds=$2 mark=$3
shift 3
if ! cd "$dir" 2>/dev/null; then
  printf 'The directory %s is not there.\n%s 1\n' "$dir" "$mark"
  exit 0
fi
timeout -k 5 "$seconds" "$@" </dev/null 2>&1
printf '\n%s %s\n' "$mark" "$?"
