#!/usr/bin/env bash
# The whole test suite: set-up, then node's test runner over the compiled tests.
# Test files run one at a time (they mount, and some start dockerd).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
before=$(findmnt -rn -o TARGET | sort)
status=0
mapfile -t files < <(find dist/test -name '*.test.js' | sort)
node --test --test-concurrency=1 "${files[@]}" || status=$?
after=$(findmnt -rn -o TARGET | sort)
if [ "$before" != "$after" ]; then
  echo "test suite left mounts behind:" >&2
  diff <(echo "$before") <(echo "$after") >&2 || true
  status=1
fi
exit $status
