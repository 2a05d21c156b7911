#!/usr/bin/env bash
# Resolution-aware BN (private BN per resolution) against shared BN, with everything else equal:
# the same ImageNet Lite0 start, data (train:0/5 of ../shared/data/imagewoof-train-3k), seed, data order,
# batch 64, SGD lr 0.01 cosine, and $EPOCHS multi-resolution epochs (every image at 224/192/160/128 in
# each step). Then every fixed resolution of both on the held-out fold test:0/5 (628 photos).
# The default 3 epochs fits 2 CPU cores (about 7-8 minutes an epoch when nothing else runs); the bundled recipe's
# 15 epochs wants a GPU. A stopped run continues with RESUME=1.
set -euo pipefail
cd "$(dirname "$0")/.."
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
$PY - "$DATA" "$RUNS" "$EPOCHS" "$RESULTS" "$THREADS" <<'PYEOF'
import json, sys
import torch
import drnet_edge as de
from drnet_edge._io import atomic_write_text
from drnet_edge.evaluate import paired_top1
data, runs, epochs, results, threads = sys.argv[1:]
torch.set_num_threads(int(threads))
preds = {}
for v in ("resolution-bn", "shared-bn"):
    net, classes, _ = de.load_model(f"{runs}/{v}-e{epochs}.pt")
    folder = de.scan_folder(data, classes=classes, subset="test:0/5")
    preds[v], _ = de.predict_folder(net, folder, net.resolutions, net.preprocess, progress=False)
ref, new = preds["resolution-bn"], preds["shared-bn"]
assert ref.paths == new.paths
out = {"n": ref.n, "epochs": int(epochs), "ref": "resolution-bn", "new": "shared-bn", "subset": "test:0/5",
       "fixed": {str(r): paired_top1(ref.labels, ref.top1[:, k], new.top1[:, k]) for k, r in enumerate(ref.resolutions)}}
atomic_write_text(f"{results}/bn_compare_e{epochs}.json", json.dumps(out, indent=2) + "\n")
print(f"shared BN minus resolution-aware BN, top-1 points (paired SE), n = {ref.n}:")
for r, c in out["fixed"].items():
    print(f"  {r}: {100 * c['top1_ref']:.1f}% -> {100 * c['top1_new']:.1f}%  {100 * c['delta']:+.1f} ({100 * c['delta_se']:.1f})")
PYEOF
