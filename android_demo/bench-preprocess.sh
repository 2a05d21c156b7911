#!/usr/bin/env bash
# What the Android core's preprocessing costs on this host's JVM, per resolution: crop + resize, and for an int8
# model the float path (normalise to float32, then quantise) against the pixel table (one lookup per byte).
# Builds the core and its test sources with run-jvm-tests.sh (BUILD_ONLY=1), runs dev.drnetedge.core.PreprocessBench
# and writes benchmarks/results/android_core_preprocess.json
# A desktop JIT, not a phone: the ratio between the two paths is the figure to read, not the milliseconds.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BUILD="$HERE/core/build/jvm-test"
OUT="$HERE/../benchmarks/results/android_core_preprocess.json"
BUILD_ONLY=1 bash "$HERE/run-jvm-tests.sh"
java -cp "$BUILD/main:$BUILD/test" dev.drnetedge.core.PreprocessBench "${1:-200}" > "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
cat "$OUT"
