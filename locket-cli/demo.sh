#!/usr/bin/env bash
# Builds the locket command and shows two invocations taking turns on one lock file:
# A takes the lock and works for two seconds; B, started while A works, waits, then runs;
# C asks with --nonblock while A holds the lock and gets the conflict exit status instead.
#
#   ./locket-cli/demo.sh          (from the top of the source tree, or from anywhere)
#
# Needs Java 17+; the build uses the Maven wrapper (./mvnw), which fetches Maven itself.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
echo "== building: ./mvnw -B -q -DskipTests package -pl locket-cli -am"
./mvnw -B -q -DskipTests package -pl locket-cli -am

locket=$root/locket-cli/bin/locket
work=$(mktemp -d "${TMPDIR:-/tmp}/locket-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT
lock=$work/demo.lock

stamp() { date +%H:%M:%S.%N | cut -c1-12; }
# Prefixes each line with $1, line by line (sed would buffer and jumble the order).
label() { while IFS= read -r line; do echo "$1 $line"; done; }

echo "== $("$locket" --version | head -1), lock file $lock"

# A: holds the lock for two seconds. It creates $work/a-holds once it has the lock.
"$locket" "$lock" bash -c '
    echo "A $(date +%T.%N | cut -c1-12) got the lock, working for 2 s"
    touch "$0/a-holds"
    sleep 2
    echo "A $(date +%T.%N | cut -c1-12) done, letting go"' "$work" &
a=$!
while [ ! -e "$work/a-holds" ]; do sleep 0.05; done

# C: does not wait.
set +e
"$locket" --nonblock "$lock" echo "C never runs" 2>&1 | label C
c=${PIPESTATUS[0]}
set -e
echo "C exit status $c (the conflict code)"

# B: waits its turn, then runs.
echo "B $(stamp) starts, asks for the lock"
"$locket" --verbose --timeout 30 "$lock" bash -c '
    echo "$(date +%T.%N | cut -c1-12) got the lock"' 2>&1 | label B
b=${PIPESTATUS[0]}
wait "$a"
echo "== A exit status $?, B exit status $b: they took turns"
