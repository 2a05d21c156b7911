#!/usr/bin/env bash
# The default policy on the clock: the bundled lite0-imagenet (its default policy calibrated on fold
# test:0/2 of the shared ImageNet photos by benchmarks/dynamic_policies.py) converted to TFLite int8
# through onnx2tf, then one interleaved local bench on the other fold, test:1/2 (photos the
# calibration never saw), against every fixed resolution and drnet: end-to-end latency (crop, one
# resize + normalise per resolution run, predictor where used, every backbone pass), preprocessing
# timed inside, ratios of means and medians against fixed-224 with 95% bootstrap intervals. Beside the
# default (calibrated with --max-drop 1.0) it measures the policy the same fold chose under
# --target-ratio 0.7 (read from benchmarks/results/dynamic_policies/results.json).
# Writes benchmarks/results/bench_default_policy_int8_tflite.{json,md,png}.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-runs/convert}
DATA=${DATA:-../shared/data/imagenet-sample-dev}
SUBSET=${SUBSET:-test:1/2}
THREADS=${THREADS:-2}
OUT=benchmarks/results
ART="$RUNS/default-policy-onnx2tf-int8"
mkdir -p "$RUNS"
if [ ! -f "$ART/manifest.json" ]; then
  .venv/bin/drnet-edge convert --model lite0-imagenet --target tflite --via onnx2tf --int8 --threads "$THREADS" \
    --out "$ART" > "$ART.log" 2>&1
fi
ALT=$(.venv/bin/python -c '
import json
r = json.load(open("benchmarks/results/dynamic_policies/results.json"))
print(next(x for x in r if x["model"] == "lite0-imagenet" and "target_ratio" in x["objective"])["splits"][0]["default_policy"])')
.venv/bin/drnet-edge bench --artifacts "$ART" --runtime tflite --data "$DATA" --subset "$SUBSET" --policies "$ALT" \
  --threads "$THREADS" --runs 50 --warmup 5 --quiet \
  --json "$OUT/bench_default_policy_int8_tflite.json" --report "$OUT/bench_default_policy_int8_tflite.md" \
  --plot "$OUT/bench_default_policy_int8_tflite.png"
