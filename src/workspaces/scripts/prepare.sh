# Readies a session's worktree in the person's pod, in one exec: makes their clone if it is
# missing, fetches it from the mirror, makes (or keeps) the worktree, sets the commit identity,
# writes Pier's own files (see session-files.sh, prepended to this script) and prints the base
# (and made=1 when it made the worktree just now);
# asked, it also says what Pier needs to know of a pod it has not seen yet (claude-code-probe.sh,
# prepended too), as `pod.<key>=<value>` lines. Idempotent: provisioning cut off at any point can run again.
# Its input: Pier's files as lines "<path><TAB><base64>", then "go" once the mirror is fetched
# ("stop" if that failed). It starts while the mirror is fetched and touches nothing before "go";
# its input ends at that line, not at the end of stdin, which Docker may not pass on.
# Prints key=value lines; exit 3 means stderr is one sentence for the person.
set -euo pipefail
clone=$1 mirror=$2 url=$3 helper=$4 wt=$5 branch=$6 created=$7 base=$8 name=$9 email=${10} known_base=${11} legacy=${12} facts_dir=${13}
shift 13
g() { git -C "$clone" "$@"; }
told() { echo "$1" >&2; exit 3; }
# With PIER_TRACE set, where each step ended, for the start trace (a bash variable: no process started).
mark() { [ -z "${PIER_TRACE:-}" ] || echo "mark=$1 $EPOCHREALTIME"; }
mark start
# The pod's facts are found meanwhile, read-only, as the standalone probe finds them (no -e, no pipefail).
[ -z "$facts_dir" ] || exec 3< <(set +e +o pipefail; claude_code_facts "$facts_dir" </dev/null 2>/dev/null)

files= go=
while IFS= read -r line; do
  case $line in
    go) go=1; break ;;
    stop) break ;;
    *) files+=$line$'\n' ;;
  esac
done
exec </dev/null
[ -n "$go" ] || { echo "stopped=1"; exit 0; }
mark mirror

if [ "$(g config --get pier.ready 2>/dev/null)" != 1 ]; then
  mkdir -p "$clone"
  git init -q --bare "$clone"
  g config remote.origin.url "$url"
  g config remote.origin.fetch '+refs/heads/*:refs/remotes/origin/*'
  # Each worktree carries its own identity (config.worktree); core.bare then lives in the clone's own.
  g config extensions.worktreeConfig true
  g config --unset core.bare || true
  g config --worktree core.bare true
  g config push.autoSetupRemote true
  # `git push` asks Pier for the GitHub token at the moment it needs it; none is stored here.
  g config credential.helper "$helper"
  g config pier.ready 1
  echo cloned=1
fi
mark clone-init
g fetch -q --prune --no-tags "$mirror" '+refs/heads/*:refs/remotes/origin/*'
mark clone-fetch

# Once: this person's branches from the clone they shared with others before pods were per person.
# That clone goes once everyone's are taken, so a branch it has but cannot give fails the start
# (and is tried again at the next), never skipped.
if [ -n "$legacy" ] && [ "$(g config --get pier.legacy-imported 2>/dev/null)" != 1 ]; then
  for b in "$@"; do
    g show-ref -q --verify "refs/heads/$b" && continue
    git -C "$legacy" show-ref -q --verify "refs/heads/$b" || continue
    g fetch -q "$legacy" "refs/heads/$b:refs/heads/$b" || told "Your branch $b could not be taken from the clone shared before pods were per person; ask an admin to look at it."
  done
  g config pier.legacy-imported 1
fi
mark legacy

# A branch made here starts at the commit the base pointed to just now: that commit is the session's base.
made_from=
if [ ! -e "$wt/.git" ]; then
  local_sha= remote_sha= base_sha=
  # The three refs that decide how, asked of git at once (the names are checked branch names: no patterns).
  while read -r sha ref; do
    case $ref in
      "refs/heads/$branch") local_sha=$sha ;;
      "refs/remotes/origin/$branch") remote_sha=$sha ;;
      "refs/remotes/$base") base_sha=$sha ;;
    esac
  done < <(g for-each-ref --format='%(objectname) %(refname)' "refs/heads/$branch" "refs/remotes/origin/$branch" "refs/remotes/$base")
  if [ -n "$local_sha" ]; then
    add=(worktree add -q -- "$wt" "$branch")
  elif [ -n "$remote_sha" ]; then
    add=(worktree add -q --track -b "$branch" -- "$wt" "origin/$branch")
  elif [ "$created" = 1 ]; then
    [ -n "$base_sha" ] || told "The default branch ${base#origin/} was not found on the remote; check the repository's settings."
    add=(worktree add -q --no-track -b "$branch" -- "$wt" "$base_sha")
    made_from=$base_sha
  else
    told "The branch $branch no longer exists locally or on the remote."
  fi
  if ! out=$(g "${add[@]}" 2>&1); then
    # A worktree directory deleted by hand stays registered until pruned; prune and try once more.
    case $out in
      *prune*) g worktree prune && g "${add[@]}" ;;
      *) echo "$out" >&2; exit 1 ;;
    esac
  fi
  # A new worktree: the repository's setup script runs in it (not in one a restart finds made).
  echo made=1
fi
mark worktree-add
git -C "$wt" config --worktree user.name "$name"
git -C "$wt" config --worktree user.email "$email"
mark identity
sync_session_files "$clone" "$wt" <<< "$files"
mark files
if [ -n "$known_base" ]; then
  echo "base=$known_base"
elif [ -n "$made_from" ]; then
  echo "base=$made_from"
else
  echo "base=$(git -C "$wt" merge-base HEAD "$base" 2>/dev/null || true)"
fi
mark base
[ -z "$facts_dir" ] || while IFS= read -r line <&3; do echo "pod.$line"; done
mark pod-facts
