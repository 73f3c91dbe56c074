#!/usr/bin/env sh
# Builds Locket and runs two processes that take turns on one lock file.
set -eu
cd "$(dirname "$0")"
./mvnw -B -q -DskipTests package
lock="${TMPDIR:-/tmp}/locket-demo.lock"
java -cp locket-core/target/classes examples/TakeTurns.java "$lock" A &
a=$!
java -cp locket-core/target/classes examples/TakeTurns.java "$lock" B &
b=$!
wait "$a" "$b"
echo "Both done: at no moment did A and B hold $lock together."
