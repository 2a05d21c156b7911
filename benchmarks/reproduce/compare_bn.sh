#!/usr/bin/env bash
# Resolution-aware BN (private BN per resolution) against shared BN, with everything else equal:
# the same ImageNet Lite0 start, data (train:0/5 of ../shared/data/imagewoof-train-3k), seed, data order,
# batch 64, SGD lr 0.01 cosine, and $EPOCHS multi-resolution epochs (every image at 224/192/160/128 in
# each step). Then every fixed resolution of both on the held-out fold test:0/5 (628 photos).
# The default 3 epochs fits 2 CPU cores (about 7-8 minutes an epoch when nothing else runs); the bundled recipe's
# 15 epochs wants a GPU. A stopped run continues with RESUME=1.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PY:-.venv/bin/python}
DATA=${DATA:-../shared/data/imagewoof-train-3k}
EPOCHS=${EPOCHS:-3}
RUNS=${RUNS:-runs/bn-compare}
RESULTS=${RESULTS:-benchmarks/results}
THREADS=${THREADS:-2}
mkdir -p "$RUNS" "$RESULTS"
for variant in resolution-bn shared-bn; do
  ckpt="$RUNS/$variant-e$EPOCHS.pt"
  resume=(); [ -n "${RESUME:-}" ] && [ -f "$ckpt" ] && resume=(--resume)
  $PY -m drnet_edge train --data "$DATA" --subset train:0/5 --resolutions 224,192,160,128 --mode joint \
    --pretrain-epochs "$EPOCHS" --epochs "$EPOCHS" --batch-size 64 --workers 1 --seed 0 --threads "$THREADS" \
    --"$variant" --quiet --out "$ckpt" "${resume[@]}"
  $PY -m drnet_edge eval --model "$ckpt" --data "$DATA" --subset test:0/5 --policies fixed \
    --threads "$THREADS" --json "$RESULTS/bn_compare_${variant}_e$EPOCHS.json"
done
# Image by image on the same photos: shared minus resolution-aware top-1 per resolution, paired SE.
$PY benchmarks/reproduce/compare_bn_paired.py --data "$DATA" --runs "$RUNS" --epochs "$EPOCHS" --results "$RESULTS" \
  --threads "$THREADS"
