#!/usr/bin/env bash
# The shipped lite0-imagewoof policy on the clock, as it ships: its TFLite int8 files (made by
# benchmarks/release/convert_shipped.sh) get their default policy from `drnet-edge calibrate --artifacts` on
# the 1,925 Imagewoof validation photos (--target-ratio 0.60, fixed before any run), written into a
# copy of the artifacts; then one interleaved local bench on the 628 photos held out from training
# (imagewoof-train-3k test:0/5), which neither trained the model nor calibrated the policy: end-to-end
# latency of every fixed resolution and the policy, ratios of means and medians against fixed-224 with
# 95% bootstrap intervals. lite0-imagewoof-base (the plain fine-tune: the same Lite0 graph at 224 px,
# so its latency is fixed-224's) is evaluated in int8 on the same photos.
# Writes benchmarks/results/bench_shipped_policy.{json,md,png}, ..._calibration.json and
# ..._base_eval.json. ~15 min on 2 x86-64 cores.
# NAME=lite0-imagewoof-hybrid: the same run for the hybrid folder (convert --pass-from
# 224=lite0-imagewoof-base, also made by convert_shipped.sh; RESULTS 6c), written to
# benchmarks/results/bench_shipped_policy_hybrid.*
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${RUNS:-runs/convert}
SHARED=${SHARED:-../shared/data}
THREADS=${THREADS:-2}
OUT=benchmarks/results
NAME=${NAME:-lite0-imagewoof}
STEM="$OUT/bench_shipped_policy${NAME#lite0-imagewoof}"
STEM=${STEM/policy-/policy_}
ART="$RUNS/$NAME-onnx2tf-int8"
BASE="$RUNS/lite0-imagewoof-base-onnx2tf-int8"
CAL="$RUNS/$NAME-onnx2tf-int8-calibrated"
for a in "$ART" "$BASE"; do
  [ -f "$a/manifest.json" ] || { echo "$a missing: run bash benchmarks/release/convert_shipped.sh first" >&2; exit 2; }
done
.venv/bin/drnet-edge calibrate --artifacts "$ART" --runtime tflite --data "$SHARED/imagewoof-val-calib" \
  --target-ratio 0.60 --threads "$THREADS" --out "$CAL" --quiet --json "${STEM}_calibration.json"
.venv/bin/drnet-edge eval --runtime tflite --artifacts "$BASE" --data "$SHARED/imagewoof-train-3k" --subset test:0/5 \
  --threads "$THREADS" --quiet --json "$OUT/bench_shipped_policy_base_eval.json" > /dev/null
.venv/bin/drnet-edge bench --artifacts "$CAL" --runtime tflite --data "$SHARED/imagewoof-train-3k" --subset test:0/5 \
  --threads "$THREADS" --runs 50 --warmup 5 --quiet --json "$STEM.json" --report "$STEM.md" --plot "$STEM.png"
# the report names the photo set, not a path a clone does not have
sed -i "s#\`$SHARED/imagewoof-train-3k\`#imagewoof-train-3k (the 3,000 Imagewoof photos, not shipped)#" "$STEM.md"
