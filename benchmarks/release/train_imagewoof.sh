#!/usr/bin/env bash
# Trains the two bundled Imagewoof models with the same budget (30 epochs each):
#   lite0-imagewoof       joint mode: 15 multi-resolution epochs (resolution-aware BN), 15 joint with the predictor
#   lite0-imagewoof-base  plain fine-tune at 224 only
# on the training folds (train:0/5) of ../shared/data/imagewoof-train-3k. Meant for a GPU (about 5 minutes
# on one H200); on 2 CPU cores it takes hours. Writes shipping checkpoints (fp16 conv weights) to $RESULTS.
# DATA may point at a copy of the train:0/5 images only (then SUBSET is empty), as on the lent GPU machine.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PY:-.venv/bin/python}
DATA=${DATA:-../shared/data/imagewoof-train-3k}
SUBSET=${SUBSET-train:0/5}
RESULTS=${RESULTS:-benchmarks/results}
RUNS=${RUNS:-runs/imagewoof}
WORKERS=${WORKERS:-6}
EPOCHS=${EPOCHS:-30}
LIMIT_S=${LIMIT_S:-100000}
mkdir -p "$RUNS" "$RESULTS"
common=(--data "$DATA" --resolutions 224,192,160,128 --epochs "$EPOCHS" --batch-size 64 --workers "$WORKERS" --seed 0 --quiet)
[ -n "$SUBSET" ] && common+=(--subset "$SUBSET")
timeout "$LIMIT_S" $PY -m drnet_edge train --overwrite "${common[@]}" --mode plain --out "$RUNS/base.pt" > "$RUNS/base.log" 2>&1 &
timeout "$LIMIT_S" $PY -m drnet_edge train --overwrite "${common[@]}" --mode joint --out "$RUNS/joint.pt" > "$RUNS/joint.log" 2>&1 || true
wait || true
tail -n 40 "$RUNS/base.log" "$RUNS/joint.log"
$PY benchmarks/release/train_imagewoof_export.py "$RUNS" "$RESULTS"
