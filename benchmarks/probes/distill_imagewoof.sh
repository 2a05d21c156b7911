#!/usr/bin/env bash
# Does in-place distillation (--distill: each smaller resolution also learns the largest's prediction,
# RS-Net style) flatten lite0-imagewoof's low-resolution accuracy? Two short CPU fine-tunes of the
# bundled lite0-imagewoof that differ only in --distill (1.0 against 0, the control: the same extra
# epochs without distillation), on its training photos (train:0/5): 3 multi-resolution epochs, lr
# 0.002 cosine, batch 64, seed 0 (settings fixed before the runs). Then, on the 628 held-out photos,
# every fixed resolution of both, per photo and paired, and the --target-ratio 0.6 default policy of
# each cross-fitted as in benchmarks/probes/dynamic_policies.py against lite0-imagewoof-base. About 25 minutes
# a run on 2 cores; a stopped run continues with RESUME=1. Writes benchmarks/results/distill_imagewoof.{json,md}.
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${RUNS:-runs/distill}
mkdir -p "$RUNS"
resume=(); [ -n "${RESUME:-}" ] && resume=(--resume)
for w in 1.0 0; do
  out="$RUNS/distill-$w.pt"
  if [ -n "${RESUME:-}" ] || [ ! -f "$out.done" ]; then
    .venv/bin/python -m drnet_edge train --data "${DATA:-../shared/data/imagewoof-train-3k}" --subset train:0/5 \
      --resolutions 224,192,160,128 --mode joint --init-from lite0-imagewoof --epochs 3 --pretrain-epochs 3 \
      --distill "$w" --lr 0.002 --batch-size 64 --workers 1 --seed 0 --threads 2 --quiet --out "$out" "${resume[@]}" \
      > "$out.log" 2>&1
    touch "$out.done"
  fi
done
.venv/bin/python benchmarks/probes/distill_imagewoof_compare.py "$RUNS/distill-1.0.pt" "$RUNS/distill-0.pt"
