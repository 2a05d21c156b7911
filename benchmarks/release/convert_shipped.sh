#!/usr/bin/env bash
# The TFLite int8 files (onnx2tf route) that benchmarks/release/shipped_policies.py and
# benchmarks/reproduce/bench_shipped_policy.sh measure: lite0-imagewoof and lite0-imagewoof-base with int8
# quantisation views (--quant-data) from their own training photos (train:0/5 of the Imagewoof sample,
# linked into a folder; never the photos the policies are scored on), lite0-imagenet with the bundled
# sample; and the hybrid (RESULTS 6c): lite0-imagewoof with lite0-imagewoof-base as its 224 px pass
# (convert --pass-from 224=lite0-imagewoof-base), the same quantisation photos.
# Existing artifacts are kept (delete a folder to redo it). ~35 min on 2 x86-64 cores.
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
convert() {  # convert NAME MODEL [extra convert flags]: the folder is $RUNS/NAME-onnx2tf-int8
  local art="$RUNS/$1-onnx2tf-int8" model=$2; shift 2
  if [ ! -f "$art/manifest.json" ]; then
    echo "converting $model -> $art"
    .venv/bin/drnet-edge convert --model "$model" --target tflite --via onnx2tf --int8 --threads "$THREADS" \
      --out "$art" "$@" > "$art.log" 2>&1
  fi
}
convert lite0-imagewoof lite0-imagewoof --quant-data "$QUANT"
convert lite0-imagewoof-base lite0-imagewoof-base --quant-data "$QUANT"
convert lite0-imagenet lite0-imagenet
convert lite0-imagewoof-hybrid lite0-imagewoof --quant-data "$QUANT" --pass-from 224=lite0-imagewoof-base
