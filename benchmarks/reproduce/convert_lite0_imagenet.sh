#!/usr/bin/env bash
# Converts the bundled lite0-imagenet to every target, fp32 and int8 (calibrated on 100 views of the
# bundled sample), evaluates each artifact directory on the held-out Imagewoof fold (test:0/5, 628
# photos, none of them used for calibration) with the same policies as PyTorch, and tabulates sizes.
# Writes benchmarks/results/convert_lite0_imagenet.json.
# REUSE=1 keeps artifact folders that are already there (re-evaluates only).
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${RUNS:-runs/convert}
DATA=${DATA:-../shared/data/imagewoof-train-3k}
mkdir -p "$RUNS"
.venv/bin/drnet-edge eval --model lite0-imagenet --data "$DATA" --subset test:0/5 --policies fixed,drnet \
  --threads 2 --quiet --json "$RUNS/pytorch.json" > /dev/null
for prec in ${PRECISIONS:-fp32 int8}; do
  flag=""; [ "$prec" = int8 ] && flag="--int8"
  if [ -z "${REUSE:-}" ] || [ ! -f "$RUNS/$prec"/manifest.json ]; then
    .venv/bin/drnet-edge convert --model lite0-imagenet --target all $flag --threads 2 --out "$RUNS/$prec" > "$RUNS/$prec.log" 2>&1
  fi
  for t in tflite executorch onnx; do
    .venv/bin/drnet-edge eval --runtime "$t" --artifacts "$RUNS/$prec" --data "$DATA" --subset test:0/5 \
      --policies fixed,drnet --threads 2 --quiet --json "$RUNS/$prec-$t.json" > /dev/null
  done
done
.venv/bin/python benchmarks/reproduce/convert_lite0_imagenet_table.py "$RUNS"
