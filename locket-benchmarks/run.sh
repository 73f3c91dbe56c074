#!/usr/bin/env bash
# Builds and runs every Locket benchmark, then writes docs/benchmarks.md and docs/handoff-cdf.png.
#
#   locket-benchmarks/run.sh            # from anywhere in a clone; about 17 minutes on 2 cores
#   QUICK=1 locket-benchmarks/run.sh    # a smoke run in about 5 minutes: same steps, fewer samples
#   BASELINE=none locket-benchmarks/run.sh   # without the side-by-side run of v0.1's core
#
# BASELINE (default 31a950c, the last commit of the core before its redesign) is built from this
# clone's history and measured in the same run: the uncontended JMH benchmark with its JAR ahead of
# the benchmarks' class path, and the hand-off with peers that load it.
#
# Needs Linux (it reads /proc), a JDK 17+ (JAVA_HOME or java on PATH) and Debian's python3-locket
# for the comparison with Python's locket; as root on Debian it installs what is missing with
# apt-get. Raw output stays in locket-benchmarks/target/results/.
set -euo pipefail

START=$(date +%s)
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
RESULTS=locket-benchmarks/target/results
JAR=locket-benchmarks/target/benchmarks.jar
PYDIR=locket-benchmarks/src/main/python
PYTHON=/usr/bin/python3 # Debian's interpreter: the one that sees python3-locket
QUICK=${QUICK:-}
BASELINE=${BASELINE:-31a950c}

log() { printf '\n== %s (%ss)\n' "$*" "$(( $(date +%s) - START ))"; }

# --- what the run needs ------------------------------------------------------------------
missing=()
command -v java >/dev/null 2>&1 || [ -n "${JAVA_HOME:-}" ] || missing+=(openjdk-17-jdk-headless)
"$PYTHON" -c 'import locket' >/dev/null 2>&1 || missing+=(python3-locket)
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  if [ "$(id -u)" = 0 ]; then SUDO=; elif command -v sudo >/dev/null; then SUDO=sudo; else
    echo "run.sh: please install ${missing[*]} (Debian packages) or run as root" >&2; exit 1
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
JAVA=${JAVA_HOME:+$JAVA_HOME/bin/}java
# Java 22+: Locket's flock(2) half uses the FFM API, which wants native access allowed.
JV=$("$JAVA" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
NATIVE=(); [ "${JV%%.*}" -ge 22 ] 2>/dev/null && NATIVE=(--enable-native-access=ALL-UNNAMED)

# --- build -------------------------------------------------------------------------------
log "building (tests skipped: this is the benchmark run, ./mvnw verify runs them)"
./mvnw -B -q -DskipTests -pl locket-benchmarks -am package
rm -rf "$RESULTS"
mkdir -p "$RESULTS"
BASE_JAR=
if [ "$BASELINE" != none ]; then
  log "building the baseline core ($BASELINE)"
  BASE_DIR=$(mktemp -d)
  git worktree add -q --detach "$BASE_DIR" "$BASELINE"
  (cd "$BASE_DIR" && ./mvnw -B -q -DskipTests -Dmaven.javadoc.skip -Dmaven.source.skip -pl locket-core package)
  cp "$BASE_DIR"/locket-core/target/locket-core-*-SNAPSHOT.jar "$RESULTS/baseline-core.jar"
  git worktree remove --force "$BASE_DIR"
  BASE_JAR=$RESULTS/baseline-core.jar
fi

# Runs a command, records it (exactly as run, from the repository root) for docs/benchmarks.md,
# and keeps its output in $RESULTS/<tag>.log.
run() {
  local tag=$1; shift
  { printf '%s\t' "$tag"; printf '%q ' "$@" | sed 's/ $//'; echo; } >>"$RESULTS/commands.tsv"
  log "$tag: $*"
  "$@" 2>&1 | tee -a "$RESULTS/$tag.log"
}

if [ -n "$QUICK" ]; then
  JMH_U=(-f 1 -wi 1 -w 1s -i 2 -r 1s); JMH_C=(-f 1 -wi 1 -w 1s -i 2 -r 1s)
  ROUNDS=50; WARMUP=500; SECONDS_EACH=1; T10=40; T100=10; PY10=20; PY100=10
else
  JMH_U=(-f 1 -wi 3 -w 1s -i 5 -r 1s); JMH_C=(-f 1 -wi 2 -w 1s -i 4 -r 1s)
  # Hand-off warm-up: HotSpot's optimising compiler (C2) takes a method after about 5,000 calls,
  # and a hand-off calls each method on its path about once. After 2,000 rounds Locket's path still
  # ran in C1 code (155 µs median, against 90 µs after 10,000 rounds in the same session).
  # Hand-off rounds: the latencies have a knee at about the median (a fast mode near 70 us, a slow
  # one from 100 us on, as the scheduler places the woken waiter): resampled, a median of 200 of
  # them falls anywhere in a 25 us range (95 %), of 600 in a 16 us range. So 600, 200 for each of
  # a strategy's 3 process pairs (see HandoffLatency).
  ROUNDS=600; WARMUP=10000; SECONDS_EACH=2; T10=300; T100=100; PY10=100; PY100=40
fi

{
  echo "env.date=$(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "env.cpu=$(sed -n 's/^model name[[:space:]]*: *//p' /proc/cpuinfo | head -1)"
  echo "env.cores=$(nproc)"
  echo "env.memory=$(awk '/^MemTotal:/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)"
  echo "env.os=$(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME"), Linux $(uname -r)"
  echo "env.fs=$(findmnt -n -o FSTYPE -T "${TMPDIR:-/tmp}" 2>/dev/null || stat -f -c %T "${TMPDIR:-/tmp}")"
  echo "env.pythonLocket=$(dpkg-query -W -f='${Version}' python3-locket 2>/dev/null || echo unknown)"
  echo "env.load=$(cut -d' ' -f1-3 /proc/loadavg)"
  echo "env.commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- . ':!docs' 2>/dev/null || echo ' (with local changes)')"
  echo "env.baseline=$BASELINE"
} >"$RESULTS/env.properties"

# --- in one JVM: JMH ----------------------------------------------------------------------
run jmh-uncontended "$JAVA" "${NATIVE[@]}" -jar "$JAR" 'UncontendedBenchmark|FcntlOnlyBenchmark|ReactiveBenchmark' "${JMH_U[@]}" \
  -rf json -rff "$RESULTS/jmh-uncontended.json"
if [ -n "$BASE_JAR" ]; then
  # The same benchmarks with the baseline's classes first on the class path (JMH's forks inherit it).
  run jmh-baseline "$JAVA" "${NATIVE[@]}" -cp "$BASE_JAR:$JAR" org.openjdk.jmh.Main \
    'UncontendedBenchmark.(acquireClose|rawSyscalls)$' "${JMH_U[@]}" -rf json -rff "$RESULTS/jmh-baseline-uncontended.json"
fi
# The same on Java 25, where Locket's binding is the FFM API (not JNA), if that JDK is here.
JAVA25=${JAVA25:-/usr/lib/jvm/temurin-25-jdk-amd64/bin/java}
if [ -x "$JAVA25" ]; then
  run jmh-uncontended-jdk25 "$JAVA25" --enable-native-access=ALL-UNNAMED -jar "$JAR" \
    'UncontendedBenchmark.(acquireClose|rawSyscalls|rawLockRelease)$' "${JMH_U[@]}" -rf json -rff "$RESULTS/jmh-uncontended-jdk25.json"
  if [ -n "$BASE_JAR" ]; then
    run jmh-baseline-jdk25 "$JAVA25" --enable-native-access=ALL-UNNAMED -cp "$BASE_JAR:$JAR" org.openjdk.jmh.Main \
      'UncontendedBenchmark.(acquireClose|rawSyscalls)$' "${JMH_U[@]}" -rf json -rff "$RESULTS/jmh-baseline-uncontended-jdk25.json"
  fi
fi
for t in 1 2 4 8; do
  run jmh-contended "$JAVA" "${NATIVE[@]}" -jar "$JAR" ContendedBenchmark -t "$t" "${JMH_C[@]}" \
    -rf json -rff "$RESULTS/jmh-contended-t$t.json"
done
run jmh-readers-writers "$JAVA" "${NATIVE[@]}" -jar "$JAR" ReadersWritersBenchmark -p work=0 -tg 3,1 "${JMH_C[@]}" \
  -rf json -rff "$RESULTS/jmh-readers-writers.json"
for t in 1 2 4 8; do
  run jmh-contended-sample "$JAVA" "${NATIVE[@]}" -jar "$JAR" 'ContendedBenchmark.(locket|baselineReentrantLock)$' \
    -bm sample -tu us -t "$t" "${JMH_C[@]}" -rf json -rff "$RESULTS/jmh-contended-sample-t$t.json"
done

# --- Python's locket, uncontended and timeouts --------------------------------------------
run python-uncontended "$PYTHON" $PYDIR/uncontended.py "$RESULTS/python-uncontended.properties"
run python-timeouts "$PYTHON" $PYDIR/timeouts.py "$RESULTS/python-timeouts.properties" "$PY10" "$PY100"

# --- across processes ---------------------------------------------------------------------
CP=("${NATIVE[@]}" -cp "$JAR" -Dlocket.bench.pydir="$PYDIR" -Dlocket.bench.python="$PYTHON")
[ -n "$BASE_JAR" ] && CP+=(-Dlocket.bench.baseline.jar="$BASE_JAR")
B=io.github.locket.benchmarks
run handoff "$JAVA" "${CP[@]}" $B.HandoffLatency "$RESULTS/handoff.properties" "$ROUNDS" "$WARMUP"
if [ -x "$JAVA25" ]; then # Locket through FFM rather than JNA, against the same peers
  run handoff-jdk25 "$JAVA25" --enable-native-access=ALL-UNNAMED -cp "$JAR" -Dlocket.bench.key=handoff-jdk25 \
    $B.HandoffLatency "$RESULTS/handoff-jdk25.properties" "$ROUNDS" "$WARMUP" raw raw-flock locket-timeout locket
fi
run throughput "$JAVA" "${CP[@]}" $B.ProcessThroughput "$RESULTS/throughput.properties" "$SECONDS_EACH"
if [ -x "$JAVA25" ]; then # Locket through FFM rather than JNA, against the same peer by hand
  run throughput-jdk25 "$JAVA25" --enable-native-access=ALL-UNNAMED -cp "$JAR" -Dlocket.bench.key=throughput-jdk25 \
    $B.ProcessThroughput "$RESULTS/throughput-jdk25.properties" "$SECONDS_EACH" raw-flock locket-timeout locket
fi

# --- waiters, timeouts, descriptors --------------------------------------------------------
for n in 1000 10000 100000; do
  for mode in none timeout; do
    run waiters "$JAVA" "${CP[@]}" $B.WaiterScaling "$RESULTS/waiters-$n-$mode.properties" "$n" "$mode"
  done
done
run timeouts "$JAVA" "${CP[@]}" $B.TimeoutPrecision "$RESULTS/timeouts.properties" "$T10" "$T100"
run fds "$JAVA" "${CP[@]}" $B.DescriptorCount "$RESULTS/fds.properties" 5000

# --- the document -------------------------------------------------------------------------
ELAPSED=$(( $(date +%s) - START ))
echo "env.loadEnd=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$RESULTS/env.properties"
echo "env.elapsed=$((ELAPSED / 60)) min $((ELAPSED % 60)) s for run.sh up to this report, build included${QUICK:+ (QUICK=1 smoke run)}" \
  >>"$RESULTS/env.properties"
run report "$JAVA" "${NATIVE[@]}" -cp "$JAR" $B.Report "$RESULTS" docs locket-benchmarks/analysis.md
log "done: docs/benchmarks.md, docs/handoff-cdf.png"
