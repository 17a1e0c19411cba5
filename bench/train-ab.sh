#!/usr/bin/env bash
# Usage: bench/train-ab.sh ROUNDS OLD.jar NEW.jar TRAIN OPTIONS
#
# Compares two builds of the CLI jar on the wall time of one `train` command, as bench/ab.sh does for
# throughput: ROUNDS rounds, each running both (OLD first in odd rounds, NEW first in even ones), then both
# medians in seconds, the median of the paired speed-ups OLD/NEW (above 1: NEW is faster), and whether the
# two builds wrote the same model file, byte for byte (they should, unless the change meant to change it).
# Pass the training options without --out: each build writes to a temporary file.
#
#   cp cli/target/mild.jar /tmp/old.jar     # before the change
#   F=/usr/share/datasets/fashion-mnist
#   bench/train-ab.sh 5 /tmp/old.jar cli/target/mild.jar --data $F/train-images-idx3-ubyte.gz --experts synthetic --blocks 7,2,1 --loss tdef --epochs 1
set -euo pipefail
export LC_ALL=C
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
if [[ " $* " == *" --help "* ]]; then usage; exit 0; fi
if [ $# -lt 4 ]; then
  usage >&2
  exit 2
fi
ROUNDS="$1"; OLD="$2"; NEW="$3"; shift 3
check_rounds "$ROUNDS"
case " $* " in *" --out "*|*" --out="*) echo "bench/train-ab.sh: leave --out out: each build writes to a temporary file" >&2; exit 2 ;; esac
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
JAVA="$("$ROOT/mild" java-home)/bin/java"
check_jars "$OLD" "$NEW"
DIR="$(mktemp -d)"
trap 'rm -rf "$DIR"' EXIT
# Seconds of wall time for one training with jar $1 writing model $2; when it fails, its own error and exit 2.
run() {
  local start end
  start="$(date +%s.%N)"
  if ! "$JAVA" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -jar "$1" train "${ARGS[@]}" --out "$2" \
      >/dev/null 2>"$DIR/err"; then
    echo "bench/train-ab.sh: $1 train ${ARGS[*]} failed:" >&2
    grep -v '^WARNING: Using incubator modules' "$DIR/err" >&2 || true
    exit 2
  fi
  end="$(date +%s.%N)"
  awk -v s="$start" -v e="$end" 'BEGIN {printf "%.3f", e - s}'
}
ARGS=("$@")
for r in $(seq "$ROUNDS"); do
  if (( r % 2 == 1 )); then
    a="$(run "$OLD" "$DIR/old.mild")"; b="$(run "$NEW" "$DIR/new.mild")"
  else
    b="$(run "$NEW" "$DIR/new.mild")"; a="$(run "$OLD" "$DIR/old.mild")"
  fi
  echo "$a $b" >> "$DIR/pairs"
done
printf 'old median %.2f s, new median %.2f s\n' "$(awk '{print $1}' "$DIR/pairs" | median)" \
  "$(awk '{print $2}' "$DIR/pairs" | median)"
printf 'paired old/new: %s; median %.3f\n' "$(awk '{printf "%s%.3f", (NR > 1 ? " " : ""), $1 / $2}' "$DIR/pairs")" \
  "$(awk '{print $1 / $2}' "$DIR/pairs" | median)"
if cmp -s "$DIR/old.mild" "$DIR/new.mild"; then
  echo "model files: the same, byte for byte"
else
  echo "model files: they differ"
fi
