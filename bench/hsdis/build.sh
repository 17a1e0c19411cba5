#!/usr/bin/env bash
# Usage: bench/hsdis/build.sh
#
# Builds bench/hsdis/target/hsdis-amd64.so (binutils' disassembler as a HotSpot plugin) and a JDK beside it that
# loads it, so that `-prof perfasm` prints instructions instead of raw bytes. Diagnostics only; x86-64 Linux.
#
#   bench/hsdis/build.sh                   # needs gcc and binutils-dev (apt-get install gcc binutils-dev)
#   bench/hsdis/target/jdk/bin/java -jar bench/target/benchmarks.jar LossThroughputBenchmark \
#       -p backend=simd -p experts=8 -p equalRho=false -f 1 -wi 3 -i 3 -prof 'perfasm:events=cpu-clock'
#
# Why a JDK of its own: HotSpot looks for hsdis-amd64.so next to libjvm.so first, and the JDK's own lib/
# may already hold one that prints AVX-512 code as raw bytes (Debian's FCML plugin does). The JDK here is
# symbolic links to the real one except bin/ and lib/server/ (copied, about 90 MB), where the plugin goes; the
# real JDK is not modified.
set -euo pipefail
usage() { sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; }
# --help explains; it must not start the build (a compile and a 90 MB copy of the JDK). It takes no arguments.
if [[ " $* " == *" --help "* || " $* " == *" -h "* ]]; then usage; exit 0; fi
if [ $# -gt 0 ]; then
  echo "bench/hsdis/build.sh: takes no arguments, got: $*" >&2
  usage >&2
  exit 2
fi
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
OUT="$HERE/target"
JDK="$("$ROOT/mild" java-home)"
if [ ! -f /usr/include/dis-asm.h ]; then
  echo "bench/hsdis/build.sh: /usr/include/dis-asm.h not found: install binutils-dev (apt-get install binutils-dev)" >&2
  exit 1
fi
mkdir -p "$OUT"
gcc -O2 -shared -fPIC -Wall "$HERE/hsdis-binutils.c" -o "$OUT/hsdis-amd64.so" -lopcodes -lbfd
rm -rf "$OUT/jdk"
cp -rs "$JDK" "$OUT/jdk"
# Real copies of the launcher and of libjvm's directory: the launcher finds the JVM, and the JVM its plugin,
# from their own resolved paths, so links there would lead back to the real JDK.
rm -rf "$OUT/jdk/bin" "$OUT/jdk/lib/server"
cp -r "$JDK/bin" "$OUT/jdk/bin"
cp -r "$JDK/lib/server" "$OUT/jdk/lib/server"
# rm first: never copy onto a link, which would overwrite the file it points to (a JDK's lib/ may link to a
# system plugin, e.g. Debian's libhsdis0-fcml).
rm -f "$OUT/jdk/lib/server/hsdis-amd64.so"
cp "$OUT/hsdis-amd64.so" "$OUT/jdk/lib/server/hsdis-amd64.so"
# Check: the JVM loads the plugin and prints Intel-syntax instructions.
if "$OUT/jdk/bin/java" -XX:+UnlockDiagnosticVMOptions -XX:+PrintAssembly \
     -XX:CompileCommand=quiet -XX:CompileCommand=print,java.lang.String::hashCode -Xcomp \
     -XX:CompileCommand=compileonly,java.lang.String::hashCode -version 2>&1 | grep -q 'mov .*PTR'; then
  echo "built $OUT/hsdis-amd64.so; JDK that loads it: $OUT/jdk"
else
  echo "bench/hsdis/build.sh: the JDK at $OUT/jdk did not print disassembly with the plugin" >&2
  exit 1
fi
