#!/usr/bin/env bash
# Usage: bench/report.sh [JMH ARGS]
#
# The loss-throughput benchmark (scalar and simd, p = 2..32, distinct and equal margins, one thread) and the
# exp roofline of the SIMD kernel in ONE JMH run, then a markdown table of medians: rows/s, simd/scalar, and
# the fraction of the exp roofline. Extra arguments go to JMH (e.g. -wi 2 -i 3 for a quicker run).
#
#   bench/report.sh                 # ~5 minutes
#   EXPERTS=8 bench/report.sh       # one size (a -p experts=8 argument would add to the list, not replace it)
#   NU=1,0.5 bench/report.sh        # also the general member (comp-sum, nu = 0.5): rows of their own
#   BATCH=1024 bench/report.sh      # another batch size (default 65536; the table has one)
# Each of EXPERTS, EQUAL_RHO, NU, BATCH is a comma-separated list, checked before anything runs (exit 2).
#
# Results: bench/target/report-results.json (or $MILD_BENCH_OUT), replaced only when the run measured
# something. A benchmark that fails stops the run (JMH's -foe true, unless you pass -foe), exit code nonzero.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
if [[ " $* " == *" --help "* ]]; then usage; exit 0; fi
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${MILD_BENCH_OUT:-$ROOT/bench/target/report-results.json}"
# The environment's values, checked before the build and the minutes of measuring: JMH took BATCH=abc to a stack
# trace and exit 1, and an OUT that is a directory received the results inside it, then the table failed.
check_list EXPERTS "${EXPERTS:-2}" '[1-9][0-9]*' "numbers of experts, each >= 1" 8
check_list EQUAL_RHO "${EQUAL_RHO:-false}" 'true|false' "true or false" false
check_list NU "${NU:-1}" '[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?' "exponents nu >= 0" 1,0.5
check_list BATCH "${BATCH:-1}" '[1-9][0-9]*' "batch sizes, each >= 1" 1024
[[ -d "$OUT" ]] && bad_usage "MILD_BENCH_OUT=$OUT is a directory; give the file the results go to (e.g. $OUT/results.json)"
mkdir -p "$(dirname "$OUT")"
# JMH writes to a new file: a run that measures nothing (-l, -h) or fails must not leave an older run's
# results to be reported as this one's.
FRESH="$(mktemp "$OUT.XXXXXX")"
trap 'rm -f "$FRESH"' EXIT
rm -f "$FRESH"
FAIL_ON_ERROR=(-foe true)
[[ " $* " == *" -foe "* ]] && FAIL_ON_ERROR=()
"$ROOT/mild" bench 'LossThroughputBenchmark|ExpRooflineBenchmark' \
  -p backend=scalar,simd -p experts="${EXPERTS:-2,4,8,16,32}" -p equalRho="${EQUAL_RHO:-false,true}" -p nu="${NU:-1}" -p batch="${BATCH:-65536}" \
  "${FAIL_ON_ERROR[@]}" -rf json -rff "$FRESH" "$@" >&2
if [[ ! -s "$FRESH" ]]; then
  echo "bench/report.sh: JMH measured nothing (no results), so there is no table; $OUT is unchanged" >&2
  exit 2
fi
mv "$FRESH" "$OUT"
# The same JDK the launcher used (it has already said why if there is none).
JAVA="$("$ROOT/mild" java-home)/bin/java"
echo "# $(date -u +%Y-%m-%dT%H:%MZ), $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p'), $(nproc) cores"
"$JAVA" -cp "$ROOT/bench/target/benchmarks.jar" dev.mild.bench.Report "$OUT"
