#!/usr/bin/env bash
# Research probe (#32, "what would unblock it"): does the flat lite0-imagewoof's curve keep rising with more
# multi-resolution epochs, and does its 224 px pass close on the plain base? Six more epochs of the flat
# arm of reproduce/flatter_curve.sh, then every fixed resolution of both backbones in fp32, paired.
# Settings fixed 2026-12-07 before any run: --init-from runs/flatter-curve/flat-pred.pt (the bundled
# lite0-imagewoof's backbone), the flat arm's photos (imagewoof-train-3k train:0/5 + rest-a, 5,392) and
# recipe (--train-scale 0.875 --distill 1.0, batch 64, seed 0), 6 multi-resolution epochs, SGD lr 0.0015
# cosine (half the flat arm's: a continuation); scored on imagewoof-val-calib (1,925) and the 628
# held-out photos (test:0/5), fp32 PyTorch, against flat-pred.pt and the re-trained base (base.pt).
# Needs the links and checkpoints that reproduce/flatter_curve.sh made in runs/flatter-curve. Resumable:
# run it again after a stop. ~55 min on 2 x86-64 cores.
set -euo pipefail
cd "$(dirname "$0")/../.."
WOOF=${WOOF:-../shared/data/imagewoof-train-3k}
CALIB=${CALIB:-../shared/data/imagewoof-val-calib}
RUNS=${RUNS:-runs/flatter-curve}
OUT=${OUT:-benchmarks/results/more_epochs_probe}
for f in "$RUNS/flat-pred.pt" "$RUNS/base.pt" "$RUNS/rest-a" "$RUNS/heldout"; do
  [ -e "$f" ] || { echo "$f missing: run bash benchmarks/reproduce/flatter_curve.sh first" >&2; exit 2; }
done
out="$RUNS/flat-more.pt"
if [ ! -f "$out.done" ]; then
  again=(); [ -f "$out" ] && again=(--resume)
  /usr/bin/time -a -o "$out.time" -f "%e s wall" nice -n 10 .venv/bin/drnet-edge train --quiet --out "$out" "${again[@]}" \
    --data "$WOOF" --subset train:0/5 --extra-data "$RUNS/rest-a" --resolutions 224,192,160,128 --batch-size 64 \
    --lr 0.0015 --seed 0 --threads 2 --mode joint --init-from "$RUNS/flat-pred.pt" --epochs 6 --pretrain-epochs 6 \
    --train-scale 0.875 --distill 1.0 >> "$out.log" 2>&1
  touch "$out.done"
fi
.venv/bin/python benchmarks/probes/more_epochs_probe.py --runs "$RUNS" --calib "$CALIB" --out "$OUT"
