#!/usr/bin/env bash
# The TFLite route through ONNX and onnx2tf (--via onnx2tf), fp32 and int8 (TensorFlow Lite's
# full-integer post-training quantization, 100 calibration views of the bundled sample), on the
# default model, evaluated like benchmarks/reproduce/convert_lite0_imagenet.sh: the 628 photos of the held-out
# Imagewoof fold test:0/5. Writes runs/convert/onnx2tf-<precision>/ and
# benchmarks/results/convert_onnx2tf.json.
# REUSE=1 keeps artifact folders that are already there (re-evaluates only).
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${RUNS:-runs/convert}
DATA=${DATA:-../shared/data/imagewoof-train-3k}
mkdir -p "$RUNS"
for prec in fp32 int8; do
  flag=""; [ "$prec" = int8 ] && flag="--int8"
  if [ -z "${REUSE:-}" ] || [ ! -f "$RUNS/onnx2tf-$prec"/manifest.json ]; then
    .venv/bin/drnet-edge convert --model lite0-imagenet --target tflite --via onnx2tf $flag --threads 2 \
      --out "$RUNS/onnx2tf-$prec" > "$RUNS/onnx2tf-$prec.log" 2>&1
  fi
  .venv/bin/drnet-edge eval --runtime tflite --artifacts "$RUNS/onnx2tf-$prec" --data "$DATA" --subset test:0/5 \
    --policies fixed,drnet --threads 2 --quiet --json "$RUNS/onnx2tf-$prec-eval.json" > /dev/null
done
.venv/bin/python benchmarks/reproduce/convert_onnx2tf_table.py "$RUNS"
