#!/usr/bin/env bash
# Usage: bench/ab.sh ROUNDS OLD.jar NEW.jar [THROUGHPUT OPTIONS]
#
# Compares two builds of the CLI jar on one throughput figure, the way this noisy 2-core machine needs:
# ROUNDS rounds, each running both (`throughput ... --backend simd` unless you pass --backend; OLD first in odd
# rounds, NEW first in even ones), and prints both medians and the median of the paired ratios NEW/OLD (pairs
# share the machine's state of the moment, so their ratio is steadier than either figure; read 0.97-1.03 as no
# difference).
#
#   cp cli/target/mild.jar /tmp/old.jar     # before the change
#   ...change, then rebuild: ./mild backends  (any ./mild command rebuilds the jar after a change)
#   bench/ab.sh 7 /tmp/old.jar cli/target/mild.jar --experts 8 --batch 65536 --threads 1
set -euo pipefail
export LC_ALL=C
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
if [[ " $* " == *" --help "* ]]; then usage; exit 0; fi
if [ $# -lt 3 ]; then
  usage >&2
  exit 2
fi
ROUNDS="$1"; OLD="$2"; NEW="$3"; shift 3
check_rounds "$ROUNDS"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
JAVA="$("$ROOT/mild" java-home)/bin/java"
check_jars "$OLD" "$NEW"
case " $* " in *" --backend "*|*" --backend="*) ARGS=("$@") ;; *) ARGS=(--backend simd "$@") ;; esac
ERR="$(mktemp)"
PAIRS="$(mktemp)"
trap 'rm -f "$ERR" "$PAIRS"' EXIT
# The jar's samplesPerSecond; when the run fails, its own error (a wrong option, a corrupt jar) and exit 2.
rate() {
  local out
  if ! out="$("$JAVA" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -jar "$1" throughput "${ARGS[@]}" 2>"$ERR")"; then
    echo "bench/ab.sh: $1 throughput ${ARGS[*]} failed:" >&2
    grep -v '^WARNING: Using incubator modules' "$ERR" >&2 || true
    exit 2
  fi
  sed -n 's/.*"samplesPerSecond": \([0-9]*\).*/\1/p' <<<"$out"
}
for r in $(seq "$ROUNDS"); do
  # Alternating which runs first: a drift of the machine within a round (another job starting, the CPU's
  # clock) would otherwise count against NEW in every pair.
  if (( r % 2 == 1 )); then
    a="$(rate "$OLD")"; b="$(rate "$NEW")"
  else
    b="$(rate "$NEW")"; a="$(rate "$OLD")"
  fi
  [ -n "$a" ] && [ -n "$b" ] || { echo "bench/ab.sh: a run printed no samplesPerSecond (try the command by hand)" >&2; exit 1; }
  echo "$a $b" >> "$PAIRS"
done
printf 'old median %.2fM rows/s, new median %.2fM rows/s\n' \
  "$(awk '{print $1 / 1e6}' "$PAIRS" | median)" "$(awk '{print $2 / 1e6}' "$PAIRS" | median)"
printf 'paired new/old: %s; median %.3f\n' "$(awk '{printf "%s%.3f", (NR > 1 ? " " : ""), $2 / $1}' "$PAIRS")" \
  "$(awk '{print $2 / $1}' "$PAIRS" | median)"
