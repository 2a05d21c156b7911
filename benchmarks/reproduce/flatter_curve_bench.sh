#!/usr/bin/env bash
# #32 point 3 on the clock: the flat arm's int8 files with the default policy `calibrate` recorded in them
# (flatter_curve.sh: --target-ratio 0.60 on the 1,925 validation photos), in one interleaved local bench on
# the 628 photos no model here trained on and no policy was calibrated on (imagewoof-train-3k test:0/5):
# end-to-end latency of every fixed resolution and the policy, ratios of means and medians against
# fixed-224 with 95% bootstrap intervals. fixed-224 runs the same Lite0 graph as the plain base at 224 px,
# so its latency is the base's. Settings as bench_shipped_policy.sh (TFLite, 2 threads, 50 runs, 5 warm-up).
# Writes benchmarks/results/flatter_curve_bench.{json,md,png}. About 10 s on 2 x86-64 cores; run it on an
# idle machine (pause other jobs: a loaded machine gives no latency worth reporting).
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${RUNS:-runs/flatter-curve}
WOOF=${WOOF:-../shared/data/imagewoof-train-3k}
ART=${ART:-$RUNS/flat-pred-int8}
STEM=${STEM:-benchmarks/results/flatter_curve_bench}
[ -f "$ART/manifest.json" ] || { echo "$ART missing: run bash benchmarks/reproduce/flatter_curve.sh first" >&2; exit 2; }
grep -q '"policy": {' "$ART/manifest.json" \
  || { echo "$ART has no calibrated default policy: flatter_curve.sh's calibrate step records it" >&2; exit 2; }
/usr/bin/time -f "bench: %e s wall" .venv/bin/drnet-edge bench --artifacts "$ART" --runtime tflite --data "$WOOF" \
  --subset test:0/5 --threads 2 --runs 50 --warmup 5 --quiet --json "$STEM.json" --report "$STEM.md" --plot "$STEM.png"
# the report names the photo set, not a path a clone does not have
sed -i "s#\`$WOOF\`#imagewoof-train-3k (the 3,000 Imagewoof photos, not shipped)#" "$STEM.md"
