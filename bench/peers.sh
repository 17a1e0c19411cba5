#!/usr/bin/env bash
# Usage: bench/peers.sh [JMH ARGS]
#
# Our loss kernel side by side with PyTorch (bytedeco) and DJL (on its PyTorch engine), one thread each, in ONE
# JMH run: LossThroughputBenchmark (backends scalar and simd) and bench-peers' PyTorchLossBenchmark and
# DjlLossBenchmark, p = 2, 8, 32, distinct and equal margins, B = 65536; then a markdown table of medians: rows/s
# and simd's ratio to each peer. Extra arguments go to JMH (e.g. -wi 2 -i 3 for a quicker run).
#
# Builds the opt-in Maven profile "peers" (module bench-peers: about 250 MB of PyTorch and DJL jars, downloaded
# into ~/.m2 on first use; the normal build and CI never fetch them). Never installs anything (DJL unpacks its
# native library into ~/.djl.ai once).
#
#   bench/peers.sh                          # ~6 minutes after the first download
#   bench/peers.sh -wi 2 -i 3               # quicker
#   EXPERTS=8 EQUAL_RHO=true bench/peers.sh # one size (JMH adds a repeated -p to the list, so sizes are set here)
#   BATCH=1024 bench/peers.sh               # another batch size (default 65536; the table has one)
# Each of EXPERTS, EQUAL_RHO, BATCH is a comma-separated list, checked before anything is built (exit 2).
#
# Results: bench-peers/target/peers-results.json (or $MILD_BENCH_OUT), replaced only when the run measured
# something. A benchmark that fails stops the run (JMH's -foe true, unless you pass -foe), exit code nonzero.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# Before the build: --help must not download PyTorch.
if [[ " $* " == *" --help "* ]]; then usage; exit 0; fi
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${MILD_BENCH_OUT:-$ROOT/bench-peers/target/peers-results.json}"
JAR="$ROOT/bench-peers/target/peers-benchmarks.jar"
EXPERTS="${EXPERTS:-2,8,32}"
EQUAL_RHO="${EQUAL_RHO:-false,true}"
BATCH="${BATCH:-65536}"
# Checked before the build (on first use a 250 MB download) and the minutes of measuring, as in report.sh: JMH
# took BATCH=abc to a stack trace and exit 1, and an OUT that is a directory received the results inside it.
check_list EXPERTS "$EXPERTS" '[1-9][0-9]*' "numbers of experts, each >= 1" 8
check_list EQUAL_RHO "$EQUAL_RHO" 'true|false' "true or false" false
check_list BATCH "$BATCH" '[1-9][0-9]*' "batch sizes, each >= 1" 1024
[[ -d "$OUT" ]] && bad_usage "MILD_BENCH_OUT=$OUT is a directory; give the file the results go to (e.g. $OUT/results.json)"

# The launcher's JDK (>= 25; it says how to get one when there is none).
JDK="$("$ROOT/mild" java-home)"
command -v mvn >/dev/null 2>&1 || { echo "peers.sh: Maven (mvn) is needed to build" >&2; exit 2; }

echo "peers.sh: building bench-peers (profile peers) with $(basename "$JDK")..." >&2
log="$(mktemp)"
# javacpp.platform: without it JavaCPP's platform artifact pulls natives for every OS and architecture.
if ! (cd "$ROOT" && JAVA_HOME="$JDK" MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow" \
      mvn -B -q -Ppeers -Djavacpp.platform=linux-x86_64 -pl bench-peers -am package -DskipTests >"$log" 2>&1); then
  cat "$log" >&2; rm -f "$log"
  echo "peers.sh: build failed (see above)" >&2; exit 2
fi
rm -f "$log"

mkdir -p "$(dirname "$OUT")"
# JMH writes to a new file: a run that measures nothing (-l, -h) or fails must not leave an older run's
# results to be reported as this one's.
FRESH="$(mktemp "$OUT.XXXXXX")"
trap 'rm -f "$FRESH"' EXIT
rm -f "$FRESH"
FAIL_ON_ERROR=(-foe true)
[[ " $* " == *" -foe "* ]] && FAIL_ON_ERROR=()
# Before OMP_NUM_THREADS is set: GNU nproc honours it.
HEADER="# $(date -u +%Y-%m-%dT%H:%MZ), $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p'), $(nproc) cores"
# One thread for PyTorch: the benchmark calls torch.set_num_threads(1); OpenMP also reads OMP_NUM_THREADS,
# which JMH cannot set per fork, but forks inherit this environment.
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
"$JDK/bin/java" --sun-misc-unsafe-memory-access=allow -jar "$JAR" \
  'dev.mild.bench.LossThroughputBenchmark|dev.mild.bench.peers.(PyTorch|Djl)LossBenchmark' \
  -p backend=scalar,simd -p experts="$EXPERTS" -p equalRho="$EQUAL_RHO" -p batch="$BATCH" \
  "${FAIL_ON_ERROR[@]}" -rf json -rff "$FRESH" "$@" >&2
if [[ ! -s "$FRESH" ]]; then
  echo "bench/peers.sh: JMH measured nothing (no results), so there is no table; $OUT is unchanged" >&2
  exit 2
fi
mv "$FRESH" "$OUT"
echo "$HEADER"
"$JDK/bin/java" -cp "$JAR" dev.mild.bench.peers.PeersReport "$OUT"
