#!/usr/bin/env bash
# The default policy on the clock: a bundled DRNet converted to TFLite int8 through onnx2tf, then one
# interleaved local bench on photos its default policy was not calibrated on, against every fixed
# resolution (and drnet): end-to-end latency (crop, one resize + normalise per resolution run,
# predictor where used, every backbone pass), preprocessing timed inside, ratios of means and medians
# against fixed-224 with 95% bootstrap intervals.
#
# MODEL=lite0-imagenet (default): default policy calibrated on fold test:0/2 of the shared ImageNet
#   photos by benchmarks/probes/dynamic_policies.py (--max-drop 1.0); benched on test:1/2. Beside it, the
#   policy the same fold chose under --target-ratio 0.7 (read from dynamic_policies/results.json).
#   Writes benchmarks/results/bench_default_policy_int8_tflite.{json,md,png}.
# MODEL=lite0-imagewoof: default policy calibrated on fold 0/10 of its 628 held-out Imagewoof photos
#   (--target-ratio 0.6); benched on the other held-out fold, test:5/10 (331 photos). int8 quantisation
#   views come from its training photos (train:0/5, linked into a folder), never the benched ones.
#   lite0-imagewoof-base (the plain fine-tune the issue compares against) is converted the same way
#   and evaluated on the same photos (its latency is that of fixed-224: the same network at 224).
#   Writes benchmarks/results/bench_default_policy_lite0-imagewoof_int8_tflite.{json,md,png} and
#   ..._base_eval.json.
set -euo pipefail
cd "$(dirname "$0")/../.."
MODEL=${MODEL:-lite0-imagenet}
RUNS=${RUNS:-runs/convert}
THREADS=${THREADS:-2}
OUT=benchmarks/results
mkdir -p "$RUNS"
convert() {  # convert MODEL ART [extra convert flags]
  local model=$1 art=$2; shift 2
  if [ ! -f "$art/manifest.json" ]; then
    .venv/bin/drnet-edge convert --model "$model" --target tflite --via onnx2tf --int8 --threads "$THREADS" \
      --out "$art" "$@" > "$art.log" 2>&1
  fi
}
case "$MODEL" in
  lite0-imagenet)
    DATA=${DATA:-../shared/data/imagenet-sample-dev}
    SUBSET=${SUBSET:-test:1/2}
    ART="$RUNS/default-policy-onnx2tf-int8"
    STEM="$OUT/bench_default_policy_int8_tflite"
    convert lite0-imagenet "$ART"
    EXTRA=(--policies "$(.venv/bin/python -c '
import json
r = json.load(open("benchmarks/results/dynamic_policies/results.json"))
print(next(x for x in r if x["model"] == "lite0-imagenet" and "target_ratio" in x["objective"])["splits"][0]["default_policy"])')")
    ;;
  lite0-imagewoof)
    DATA=${DATA:-../shared/data/imagewoof-train-3k}
    SUBSET=${SUBSET:-test:5/10}
    ART="$RUNS/default-policy-lite0-imagewoof-onnx2tf-int8"
    BASE="$RUNS/default-policy-lite0-imagewoof-base-onnx2tf-int8"
    STEM="$OUT/bench_default_policy_lite0-imagewoof_int8_tflite"
    QUANT="$RUNS/imagewoof-train-links"
    if [ ! -d "$QUANT" ]; then
      .venv/bin/python benchmarks/release/cv_imagewoof_holdout_links.py "$DATA" "$QUANT.tmp" --subset train:0/5
      mv "$QUANT.tmp" "$QUANT"
    fi
    convert lite0-imagewoof "$ART" --quant-data "$QUANT"
    convert lite0-imagewoof-base "$BASE" --quant-data "$QUANT"
    .venv/bin/drnet-edge eval --runtime tflite --artifacts "$BASE" --data "$DATA" --subset "$SUBSET" \
      --threads "$THREADS" --quiet --json "${STEM}_base_eval.json" > /dev/null
    EXTRA=()
    ;;
  *) echo "MODEL must be lite0-imagenet or lite0-imagewoof, got '$MODEL'" >&2; exit 2 ;;
esac
.venv/bin/drnet-edge bench --artifacts "$ART" --runtime tflite --data "$DATA" --subset "$SUBSET" "${EXTRA[@]}" \
  --threads "$THREADS" --runs 50 --warmup 5 --quiet \
  --json "$STEM.json" --report "$STEM.md" --plot "$STEM.png"
