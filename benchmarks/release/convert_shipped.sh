#!/usr/bin/env bash
# The TFLite int8 files (onnx2tf route) that benchmarks/release/shipped_policies.py and
# benchmarks/reproduce/bench_shipped_policy.sh measure: lite0-imagewoof and lite0-imagewoof-base with int8
# quantisation views (--quant-data) from their own training photos (train:0/5 of the Imagewoof sample,
# linked into a folder; never the photos the policies are scored on), lite0-imagenet with the bundled
# sample.
# Existing artifacts are kept (delete a folder to redo it). ~25 min on 2 x86-64 cores.
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${RUNS:-runs/convert}
DATA=${DATA:-../shared/data/imagewoof-train-3k}
THREADS=${THREADS:-2}
mkdir -p "$RUNS"
QUANT="$RUNS/imagewoof-train-links"
if [ ! -d "$QUANT" ]; then
  .venv/bin/python benchmarks/release/cv_imagewoof_holdout_links.py "$DATA" "$QUANT.tmp" --subset train:0/5
  mv "$QUANT.tmp" "$QUANT"
fi
convert() {  # convert MODEL [extra convert flags]
  local model=$1 art="$RUNS/$1-onnx2tf-int8"; shift
  if [ ! -f "$art/manifest.json" ]; then
    echo "converting $model -> $art"
    .venv/bin/drnet-edge convert --model "$model" --target tflite --via onnx2tf --int8 --threads "$THREADS" \
      --out "$art" "$@" > "$art.log" 2>&1
  fi
}
convert lite0-imagewoof --quant-data "$QUANT"
convert lite0-imagewoof-base --quant-data "$QUANT"
convert lite0-imagenet
