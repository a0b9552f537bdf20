#!/usr/bin/env bash
# `npm test`'s first step: build, type-check and lint side by side. Each is one
# single-threaded process, so on CI's 2 cores this takes about half the time of running them
# in turn. Every failure is printed in full, in a fixed order.
set -uo pipefail
cd "$(dirname "$0")/.."
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
declare -A pids
for step in build typecheck lint; do
  npm run -s "$step" >"$logs/$step" 2>&1 &
  pids[$step]=$!
done
status=0
for step in build typecheck lint; do
  if wait "${pids[$step]}"; then
    echo "pretest: $step ok"
  else
    status=1
    echo "pretest: $step failed:"
    cat "$logs/$step"
  fi
done
exit $status
