#!/usr/bin/env bash
# Cross-validated result of the lite0-imagenet predictor (predictor mode, frozen ImageNet Lite0).
# 5 folds over ../shared/data/imagenet-sample-dev by a hash of the file path (--subset K/5). Each fold's
# predictor trains on the other 4 folds plus all of imagewoof-train-3k, and is evaluated only on its own
# held-out fold. Pooled over folds: benchmarks/results/lite0_imagenet_cv.{json,png}.
# All folds share one backbone-outcome cache (runs/lite0-imagenet-cache), built on first use
# (~15 minutes on 2 cores for 3,500 images x 4 views x 4 resolutions); each fold then trains in ~2 minutes.
set -euo pipefail
cd "$(dirname "$0")/../.."
DEV=${DEV:-../shared/data/imagenet-sample-dev}
WOOF=${WOOF:-../shared/data/imagewoof-train-3k}
RUNS=${RUNS:-runs/cv-lite0-imagenet}
TARGET=${TARGET:-0.6}
EPOCHS=${EPOCHS:-20}
TAG=${TAG:-lite0_imagenet_cv}
mkdir -p "$RUNS"
for k in 0 1 2 3 4; do
  .venv/bin/drnet-edge train --overwrite --data "$DEV" --subset "train:$k/5" --extra-data "$WOOF" --mode predictor \
    --resolutions 224,192,160,128 --views 4 --epochs "$EPOCHS" --target-ratio "$TARGET" --threads 2 --quiet \
    --cache-dir runs/lite0-imagenet-cache --out "$RUNS/t$TARGET-fold$k.pt" > "$RUNS/t$TARGET-fold$k.log"
  .venv/bin/drnet-edge eval --model "$RUNS/t$TARGET-fold$k.pt" --data "$DEV" --subset "test:$k/5" --quiet --threads 2 \
    --policies fixed,oracle,oracle-agree,drnet,random --json "$RUNS/t$TARGET-fold$k.json" > /dev/null
done
.venv/bin/python benchmarks/reproduce/pool_folds.py "$RUNS"/t"$TARGET"-fold?.json --json "benchmarks/results/$TAG.json" --plot "benchmarks/results/$TAG.png"
