#!/usr/bin/env bash
# #32 point 1, "a predictor split, recorded": lite0-imagewoof's predictor retrained, backbone frozen, on
# photos its backbone never saw (imagewoof-train-rest), and scored on photos neither saw
# (imagewoof-val-calib, 1,925 photos), fp32 and TFLite int8 (litert route). docs/RESULTS.md, "Predictor
# trained on unseen photos (#32)".
#
# Settings, fixed before the run (those of every predictor in docs/RESULTS.md, plus the subset):
#   train: --mode predictor --resolutions 224,192,160,128 --views 4 --epochs 20 --target-ratio 0.6
#          --eta 0.2 --tau 1.0 --seed 0 (lr 1e-3 AdamW, batch 32: the defaults)
#   photos: the first LIMIT=600 of imagewoof-train-rest's 6,025 in scan order (--limit: 60 per class,
#          the first by file name in each class folder): the backbone-outcome pass costs ~3 s a photo on
#          the shared 2-core machine, so all 6,025 would take ~5 h there.
#   two variants: warm (from the bundled predictor's weights, what --init-from does by default) and
#          fresh (--fresh-predictor: a new predictor, ImageNet Lite0 trunk as in every fresh run).
#   the backbone's photos recorded first: a copy of the bundled model whose metadata says it trained on
#          imagewoof-train-3k --subset train:0/5 (2,372 photos, docs/RESULTS.md section 2), so the new
#          checkpoints carry both parts of the split and the overlap check runs.
#   int8: drnet-edge convert --int8 (litert route, 100 quantisation views) on QUANT=the first 20 photos
#          per class of the training subset (links), never the scored photos; the backbone files once,
#          each retrained predictor converted alone by the same code and spliced in (predictor_rest.py splice).
#   scoring and the threshold rule: benchmarks/reproduce/predictor_rest.py's docstring.
# Writes benchmarks/results/predictor_rest.{json,md}; runs/predictor-rest keeps checkpoints, logs, outcomes.
set -euo pipefail
cd "$(dirname "$0")/../.."
REST=${REST:-../shared/data/imagewoof-train-rest}
WOOF=${WOOF:-../shared/data/imagewoof-train-3k}
CALIB=${CALIB:-../shared/data/imagewoof-val-calib}
RUNS=${RUNS:-runs/predictor-rest}
LIMIT=${LIMIT:-600}
THUMB=${THUMB:-64}  # #32 point 2: THUMB=72 retrains the predictors on 72 px thumbnails (4.5% of 224's MACs)
OUT=${OUT:-benchmarks/results/predictor_rest}  # LIMIT=6025 runs write predictor_rest_6025
NICE="nice -n 10"
mkdir -p "$RUNS"
[ -f "$RUNS/backbone.pt" ] || $NICE .venv/bin/python -c "from drnet_edge.train.split import record_backbone_photos as r
r('lite0-imagewoof', '$RUNS/backbone.pt', '$WOOF', 'train:0/5')"
for v in warm fresh; do
  flag=""; [ "$v" = fresh ] && flag=--fresh-predictor
  if [ ! -f "$RUNS/$v.pt" ]; then
    /usr/bin/time -f "$v train: %e s wall" $NICE .venv/bin/drnet-edge train --overwrite --data "$REST" --limit "$LIMIT" \
      --mode predictor --init-from "$RUNS/backbone.pt" $flag --thumb-size "$THUMB" --resolutions 224,192,160,128 --views 4 --epochs 20 \
      --target-ratio 0.6 --eta 0.2 --tau 1.0 --seed 0 --threads 2 --cache-dir "$RUNS/cache" --out "$RUNS/$v.pt" \
      > "$RUNS/$v.log" 2> "$RUNS/$v.err"
  fi
  [ -f "$RUNS/$v-shipped.pt" ] || $NICE .venv/bin/python -c "from drnet_edge.models.checkpoint import export_for_shipping as e
e('$RUNS/$v.pt', '$RUNS/$v-shipped.pt')"
done
# REUSE_FP32=PKL: the fp32 backbone outcomes of lite0-imagewoof on these photos from an existing
# benchmarks/release/shipped_policies.py cache (the same frozen backbone), 40 photos recomputed as a check
if [ -n "${REUSE_FP32:-}" ] && [ ! -f "$RUNS/outcomes/old.fp32.pkl" ]; then
  $NICE .venv/bin/python benchmarks/reproduce/predictor_rest.py reuse --runs "$RUNS" --calib "$CALIB" --reuse "$REUSE_FP32"
fi
/usr/bin/time -f "fp32 outcomes: %e s wall" $NICE .venv/bin/python benchmarks/reproduce/predictor_rest.py outcomes \
  --runs "$RUNS" --calib "$CALIB" --variants old,warm,fresh
if [ "${INT8:-1}" = 1 ]; then
  QUANT="$RUNS/quant"
  if [ ! -d "$QUANT" ]; then  # 20 photos per class of the training subset, as links
    for d in "$REST"/*/; do
      c=$(basename "$d"); mkdir -p "$QUANT.tmp/$c"
      find "$d" -maxdepth 1 -type f | sort | sed -n 1,20p | while read -r f; do ln -s "$(realpath "$f")" "$QUANT.tmp/$c/"; done
    done
    mv "$QUANT.tmp" "$QUANT"
  fi
  # the whole conversion once, of backbone.pt (the frozen backbone and the bundled predictor: "old")
  [ -f "$RUNS/old-int8/manifest.json" ] || /usr/bin/time -f "old convert int8: %e s wall" $NICE .venv/bin/drnet-edge convert \
    --model "$RUNS/backbone.pt" --int8 --quant-data "$QUANT" --threads 2 --out "$RUNS/old-int8" > "$RUNS/old-int8.log" 2>&1
  # each retrained predictor converted alone by the same code and spliced into a copy (predictor_rest.py splice);
  # "old" again first: the predictor-only step must give the full conversion's predictor file
  for v in old warm fresh; do
    out="$RUNS/$v-int8"; [ "$v" = old ] && out="$RUNS/old-int8-again"
    [ -f "$out/splice.json" ] || $NICE .venv/bin/python benchmarks/reproduce/predictor_rest.py splice --runs "$RUNS" \
      --quant "$QUANT" --variants "$v" >> "$RUNS/splice.log" 2>&1
  done
  /usr/bin/time -f "int8 outcomes: %e s wall" $NICE .venv/bin/python benchmarks/reproduce/predictor_rest.py outcomes \
    --runs "$RUNS" --calib "$CALIB" --variants old,warm,fresh --int8
fi
$NICE .venv/bin/python benchmarks/reproduce/predictor_rest.py report --runs "$RUNS" --out "$OUT"
# #32 point 4: calibrate chooses among every family out of fold, the retrained predictor's drnet and
# drnet-escalate included: the objective of the bundled default (--target-ratio 0.60), on the int8 files
if [ "${INT8:-1}" = 1 ] && [ "${CALIBRATE:-1}" = 1 ]; then
  for v in old warm fresh; do
    [ -f "$OUT.calibrate-$v.json" ] || $NICE .venv/bin/drnet-edge calibrate --artifacts "$RUNS/$v-int8" --data "$CALIB" \
      --target-ratio 0.60 --threads 2 --quiet --json "$OUT.calibrate-$v.json" > "$RUNS/calibrate-$v.log" 2>&1
  done
fi
