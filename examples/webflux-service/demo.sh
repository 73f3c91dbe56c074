#!/usr/bin/env bash
# Builds the project, starts the example service, and calls it with curl while the `locket` command,
# then util-linux flock(1), in another process, holds the job's lock: 200, then 409 (wait=false),
# 503 (timeout), 200 (waited), 409 again under flock(1).
#
#   ./examples/webflux-service/demo.sh        PORT=8081 ./examples/webflux-service/demo.sh
#
# Needs Java 17+, curl and a free port (8080 unless PORT says otherwise).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
port=${PORT:-8080}
jobs=$(mktemp -d "${TMPDIR:-/tmp}/locket-jobs.XXXXXX")
service=

cleanup() {
    if [ -n "$service" ]; then kill "$service" 2>/dev/null || true; wait "$service" 2>/dev/null || true; fi
    rm -rf "$jobs"
}
trap cleanup EXIT

say() { printf '\n$ %s\n' "$*"; }

echo "== building: ./mvnw -B -q -DskipTests package"
./mvnw -B -q -DskipTests package

say "java -jar examples/webflux-service/target/locket-webflux-service.jar --server.port=$port --locket.jobs.dir=$jobs --locket.jobs.timeout=3s &"
java -jar examples/webflux-service/target/locket-webflux-service.jar --server.port="$port" \
    --locket.jobs.dir="$jobs" --locket.jobs.timeout=3s > "$jobs/service.log" 2>&1 &
service=$!
for _ in $(seq 1 300); do
    curl -s -o /dev/null "localhost:$port/" && break
    kill -0 "$service" 2>/dev/null || { cat "$jobs/service.log"; exit 1; }
    sleep 0.1
done
grep -o -e 'Locket lock protocols: .*' -e 'Started JobServiceApplication in .*' "$jobs/service.log" || true

say "curl -s -X POST localhost:$port/jobs/nightly"
curl -s -X POST "localhost:$port/jobs/nightly"; echo

say "locket-cli/bin/locket $jobs/nightly.lock sh -c 'echo cron: nightly running; sleep 5' &"
locket-cli/bin/locket "$jobs/nightly.lock" sh -c 'echo "cron: nightly running"; touch "$0"; sleep 5' "$jobs/cron-holds" &
cron=$!
until [ -e "$jobs/cron-holds" ]; do sleep 0.05; done

say "curl -s -i -X POST 'localhost:$port/jobs/nightly?wait=false'"
curl -s -i -X POST "localhost:$port/jobs/nightly?wait=false"; echo

say "curl -s -i -X POST 'localhost:$port/jobs/nightly'        # waits up to 3 s"
curl -s -i -X POST "localhost:$port/jobs/nightly"; echo

say "time curl -s -X POST 'localhost:$port/jobs/nightly'      # waits for the cron job to finish"
time curl -s -X POST "localhost:$port/jobs/nightly"; echo
wait "$cron"

if command -v flock >/dev/null 2>&1; then
    say "flock $jobs/nightly.lock sh -c 'echo flock: nightly running; sleep 2' &"
    flock "$jobs/nightly.lock" sh -c 'echo "flock: nightly running"; touch "$0"; sleep 2' "$jobs/flock-holds" &
    holder=$!
    until [ -e "$jobs/flock-holds" ]; do sleep 0.05; done
    say "curl -s -i -X POST 'localhost:$port/jobs/nightly?wait=false'   # util-linux flock(1) holds it"
    curl -s -i -X POST "localhost:$port/jobs/nightly?wait=false"; echo
    wait "$holder"
fi

say "curl -s -i -X POST 'localhost:$port/jobs/..%2Fetc%2Fpasswd'"
curl -s -i -X POST "localhost:$port/jobs/..%2Fetc%2Fpasswd"; echo

say "cat $jobs/nightly.log"
cat "$jobs/nightly.log"
