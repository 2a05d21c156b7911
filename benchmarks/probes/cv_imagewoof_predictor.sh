#!/usr/bin/env bash
# Is the Imagewoof predictor limited by learning from photos its backbone was trained on? On those
# photos lite0-imagewoof is right at every resolution (99.5-99.9%, benchmarks/results/imagewoof_trainfolds.json),
# so the backbone losses the predictor learns from say little about new photos. Here the predictor is
# retrained in predictor mode on the frozen lite0-imagewoof backbone (--init-from) using only photos
# the backbone never saw: the 628 held-out photos (test:0/5), in 5-fold cross-validation (each fold's
# predictor trains on ~500 of them and is evaluated on the other ~125; pooled, every photo is
# evaluated once by a predictor that never saw it). Settings as for every predictor here, fixed
# beforehand: --target-ratio 0.6 --eta 0.2 --tau 1.0, 20 epochs, 4 views.
# Writes benchmarks/results/imagewoof_predictor_cv.{json,png}. About 10 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/../.."
WOOF=${WOOF:-../shared/data/imagewoof-train-3k}
RUNS=${RUNS:-runs/cv-imagewoof-predictor}
HOLD="$RUNS/holdout"   # the held-out fold as a folder of links, so it can be split again
mkdir -p "$RUNS"
if [ ! -d "$HOLD" ]; then
  .venv/bin/python benchmarks/release/cv_imagewoof_holdout_links.py "$WOOF" "$HOLD.tmp"
  mv "$HOLD.tmp" "$HOLD"
fi
for k in 0 1 2 3 4; do
  .venv/bin/drnet-edge train --overwrite --data "$HOLD" --subset "train:$k/5" --mode predictor --init-from lite0-imagewoof \
    --resolutions 224,192,160,128 --views 4 --epochs 20 --target-ratio 0.6 --eta 0.2 --threads 2 --quiet \
    --cache-dir "$RUNS/cache" --out "$RUNS/fold$k.pt" > "$RUNS/fold$k.log"
  .venv/bin/drnet-edge eval --model "$RUNS/fold$k.pt" --data "$HOLD" --subset "test:$k/5" --quiet --threads 2 \
    --policies fixed,oracle-agree,drnet,random --json "$RUNS/fold$k.json" > /dev/null
done
.venv/bin/python benchmarks/reproduce/pool_folds.py "$RUNS"/fold?.json --json benchmarks/results/imagewoof_predictor_cv.json \
  --plot benchmarks/results/imagewoof_predictor_cv.png
