#!/usr/bin/env bash
# Measured latency of the converted default model (lite0-imagenet) on this machine, every runtime,
# fp32 and int8, against fixed resolutions: end to end per image (crop, resize, predictor, backbone;
# decode excluded), policies interleaved image by image, on the held-out Imagewoof fold test:0/5
# (628 photos; none used for training or calibration). Artifacts from benchmarks/reproduce/convert_lite0_imagenet.sh
# (converted here if missing), and the TFLite int8 of benchmarks/reproduce/convert_onnx2tf.sh when present. Writes benchmarks/results/bench_local_<precision>_<runtime>.json/.md
# and a table of ratios against fixed-224 from the same run.
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${RUNS:-runs/convert}
DATA=${DATA:-../shared/data/imagewoof-train-3k}
SUBSET=${SUBSET:-test:0/5}
THREADS=${THREADS:-2}
OUT=benchmarks/results
for prec in int8 fp32; do
  if [ ! -f "$RUNS/$prec/manifest.json" ]; then
    flag=""; [ "$prec" = int8 ] && flag="--int8"
    .venv/bin/drnet-edge convert --model lite0-imagenet --target all $flag --threads "$THREADS" --out "$RUNS/$prec"
  fi
  for t in tflite executorch onnx; do
    .venv/bin/drnet-edge bench --artifacts "$RUNS/$prec" --runtime "$t" --data "$DATA" --subset "$SUBSET" \
      --threads "$THREADS" --runs 50 --warmup 5 --energy --quiet \
      --json "$OUT/bench_local_${prec}_${t}.json" --report "$OUT/bench_local_${prec}_${t}.md" \
      --plot "$OUT/bench_local_${prec}_${t}.png" > /dev/null
  done
done
# the TFLite int8 made through --via onnx2tf (benchmarks/reproduce/convert_onnx2tf.sh), when present
if [ -f "$RUNS/onnx2tf-int8/manifest.json" ]; then
  .venv/bin/drnet-edge bench --artifacts "$RUNS/onnx2tf-int8" --runtime tflite --data "$DATA" --subset "$SUBSET" \
    --threads "$THREADS" --runs 50 --warmup 5 --energy --quiet \
    --json "$OUT/bench_local_int8_tflite-onnx2tf.json" --report "$OUT/bench_local_int8_tflite-onnx2tf.md" \
    --plot "$OUT/bench_local_int8_tflite-onnx2tf.png" > /dev/null
fi
.venv/bin/python benchmarks/reproduce/bench_lite0_local_table.py "$OUT"
