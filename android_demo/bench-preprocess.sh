#!/usr/bin/env bash
# What the Android core's preprocessing costs on this host's JVM, per resolution: crop + resize, and for an int8
# model the float path (normalise to float32, then quantise) against the pixel table (one lookup per byte).
# Builds the core like run-jvm-tests.sh, runs dev.drnetedge.core.PreprocessBench and writes
#   benchmarks/results/android_core_preprocess.json
# A desktop JIT, not a phone: the ratio between the two paths is the figure to read, not the milliseconds.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CORE="$HERE/core"
BUILD="$CORE/build/jvm-bench"
OUT="$HERE/../benchmarks/results/android_core_preprocess.json"
command -v javac >/dev/null || { echo "bench-preprocess.sh: javac not found (install a JDK 11+)" >&2; exit 2; }
rm -rf "$BUILD"
mkdir -p "$BUILD"
find "$CORE/src/main/java" -name '*.java' > "$BUILD/sources.txt"
echo "$CORE/src/test/java/dev/drnetedge/core/PreprocessBench.java" >> "$BUILD/sources.txt"
javac --release 11 -encoding UTF-8 -d "$BUILD" @"$BUILD/sources.txt"
java -cp "$BUILD" dev.drnetedge.core.PreprocessBench "${1:-200}" > "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
cat "$OUT"
