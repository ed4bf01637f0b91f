#!/bin/sh
# The docker the devcontainer CLI is given when Pier builds a repository's features
# (src/environments/devcontainer-cli.ts): the real docker CLI, except that every build runs its
# RUN steps on the pods' network mode (PIER_BUILD_NETWORK), as a repository's own Dockerfile does,
# and nothing else starts a container or builds another way.
: "${PIER_BUILD_NETWORK:?is the network mode builds run on, and Pier always sets it}"
case "$1" in
  build)
    shift
    exec docker build --network "$PIER_BUILD_NETWORK" "$@"
    ;;
  buildx | builder | run | create | start | exec | container | compose)
    echo "Pier does not let a repository's environment build run 'docker $1'." >&2
    exit 1
    ;;
esac
exec docker "$@"
