#!/usr/bin/env bash
# #32 point 3: a flatter curve for lite0-imagewoof within a fixed CPU budget, and the same budget spent on
# the plain base. Every step is resumable: run the same command again after a stop.
#
# Settings, fixed 2026-12-07 before any run of this script:
#   photos (disjoint; each checkpoint records its own in meta["data"]):
#     backbone:  imagewoof-train-3k --subset train:0/5 (2,372: what both bundled models trained on)
#                + REST_A: imagewoof-train-rest --subset train:0/2 (about half of its 6,025), as links
#     predictor: REST_B: imagewoof-train-rest --subset test:0/2 (the other half), as links
#     kept apart: imagewoof-train-3k test:0/5 (628) and imagewoof-val-calib (1,925, scored)
#   flat arm: --mode joint --init-from lite0-imagewoof, multi-resolution epochs only (--pretrain-epochs =
#     --epochs = FLAT_EPOCHS, 10), --train-scale 0.875 (each path trains on crops of 7/8 its side: the
#     train-test resolution discrepancy) and --distill 1.0 (soft targets from 224 px), SGD lr 0.003 cosine,
#     batch 64, seed 0. Estimated at 16 min an epoch (section 2b's rate for ~5,400 photos); measured
#     7.5-8.9 min, 82 min for the 10 (docs/RESULTS.md 9c).
#   base arm: --mode plain --init-from lite0-imagewoof-base, the same photos, BASE_EPOCHS (20: a plain
#     epoch runs one resolution, about half of a multi-resolution one), lr 0.003, batch 64, seed 0.
#     Measured about 5 min an epoch: the base gets more CPU time than the flat arm.
#   the flat backbone's predictor: --mode predictor --init-from flat.pt --data REST_B, 20 epochs,
#     --target-ratio 0.6, 4 views (predictor_rest.sh's settings); both models converted to TFLite int8
#     (litert route, quantisation views from 20 photos a class of the backbone's photos); on the 1,925
#     val-calib photos: eval of every fixed resolution, and calibrate --artifacts --target-ratio 0.60.
#   Order: the flat arm's whole chain first, then the base arm; last, the bundled lite0-imagewoof and
#   lite0-imagewoof-base converted the same way and the paired report (flatter_curve.py).
#   Re-bundle only what wins there (docs/RESULTS.md 9c says what wins).
# SMOKE=1: every step on 80 training and 150 scored photos, 1 epoch, fp32 ONNX instead of int8 TFLite
# (checks the script in ~5 min; not a result).
set -euo pipefail
cd "$(dirname "$0")/../.."
WOOF=${WOOF:-../shared/data/imagewoof-train-3k}
REST=${REST:-../shared/data/imagewoof-train-rest}
CALIB=${CALIB:-../shared/data/imagewoof-val-calib}
RUNS=${RUNS:-runs/flatter-curve}
OUT=${OUT:-benchmarks/results/flatter_curve}
FLAT_EPOCHS=${FLAT_EPOCHS:-10}
BASE_EPOCHS=${BASE_EPOCHS:-20}
NICE="nice -n 10"
limit=(); scored=(); convert=(--int8)
if [ "${SMOKE:-0}" = 1 ]; then
  FLAT_EPOCHS=1; BASE_EPOCHS=1; RUNS=$RUNS-smoke; OUT=$RUNS/report; limit=(--limit 80); scored=(--limit 150)
  convert=(--target onnx)
fi
QUANT="$RUNS/quant"
mkdir -p "$RUNS"
links() {  # links NAME SRC SUBSET: a hash fold of SRC as a folder of renamed links (kept once made)
  [ -d "$RUNS/$1" ] && return
  .venv/bin/python benchmarks/release/cv_imagewoof_holdout_links.py "$2" "$RUNS/$1.tmp" --subset "$3"
  mv "$RUNS/$1.tmp" "$RUNS/$1"
}
links rest-a "$REST" train:0/2
links rest-b "$REST" test:0/2
links woof-train "$WOOF" train:0/5
EXTRA="$RUNS/rest-a"
if [ "${SMOKE:-0}" = 1 ] && [ ! -d "$RUNS/rest-a-smoke" ]; then  # --extra-data is used whole: 8 a class here
  for d in "$RUNS/rest-a"/*/; do
    c=$(basename "$d"); mkdir -p "$RUNS/rest-a-smoke.tmp/$c"
    find "$d" -maxdepth 1 -type l | sort | sed -n 1,8p | while read -r f; do ln -s "$(realpath "$f")" "$RUNS/rest-a-smoke.tmp/$c/"; done
  done
  mv "$RUNS/rest-a-smoke.tmp" "$RUNS/rest-a-smoke"
fi
[ "${SMOKE:-0}" = 1 ] && EXTRA="$RUNS/rest-a-smoke"
train() {  # train OUT ARGS...: resumes OUT when it exists, marks it done when it ends
  local out=$1; shift
  [ -f "$out.done" ] && return
  local again=(); [ -f "$out" ] && again=(--resume)
  /usr/bin/time -a -o "$out.time" -f "%e s wall" $NICE .venv/bin/drnet-edge train --quiet --out "$out" "${again[@]}" "$@" \
    "${limit[@]}" >> "$out.log" 2>&1
  touch "$out.done"
}
common=(--data "$WOOF" --subset train:0/5 --extra-data "$EXTRA" --resolutions 224,192,160,128 --batch-size 64
        --lr 0.003 --seed 0 --threads 2 --val "$CALIB")
train "$RUNS/flat.pt" "${common[@]}" --mode joint --init-from lite0-imagewoof --epochs "$FLAT_EPOCHS" \
  --pretrain-epochs "$FLAT_EPOCHS" --train-scale 0.875 --distill 1.0
train "$RUNS/flat-pred.pt" --data "$RUNS/rest-b" --mode predictor --init-from "$RUNS/flat.pt" --epochs 20 \
  --target-ratio 0.6 --views 4 --seed 0 --threads 2
if [ ! -d "$QUANT" ]; then  # 20 photos a class of the backbone's own photos, as links under their cv- names
  for d in "$RUNS/woof-train"/*/; do  # (convert holds a hash fold aside: under the original names, all fold 1-4)
    c=$(basename "$d"); mkdir -p "$QUANT.tmp/$c"
    find "$d" -maxdepth 1 -type l | sort | sed -n 1,20p | while read -r f; do ln -s "$(realpath "$f")" "$QUANT.tmp/$c/$(basename "$f")"; done
  done
  mv "$QUANT.tmp" "$QUANT"
fi
shipped() {  # shipped NAME: convert runs/NAME.pt as it ships, then eval every fixed resolution on the scored photos
  local m=$1
  [ -f "$RUNS/$m-int8/manifest.json" ] || $NICE .venv/bin/drnet-edge convert --model "$RUNS/$m.pt" "${convert[@]}" \
    --quant-data "$QUANT" --threads 2 --out "$RUNS/$m-int8" > "$RUNS/$m-int8.log" 2>&1
  [ -f "$OUT.eval-$m.json" ] || $NICE .venv/bin/drnet-edge eval --quiet --artifacts "$RUNS/$m-int8" --data "$CALIB" \
    --policies fixed --threads 2 "${scored[@]}" --json "$OUT.eval-$m.json" > "$RUNS/eval-$m.log" 2>&1
}
# the flat arm's whole chain first (it alone answers "within 0.3 of its own fixed-224"), then the base arm
shipped flat-pred
[ -f "$OUT.calibrate-flat.json" ] || $NICE .venv/bin/drnet-edge calibrate --quiet --artifacts "$RUNS/flat-pred-int8" \
  --data "$CALIB" --target-ratio 0.60 --threads 2 "${scored[@]}" --json "$OUT.calibrate-flat.json" > "$RUNS/calibrate-flat.log" 2>&1
train "$RUNS/base.pt" "${common[@]}" --mode plain --init-from lite0-imagewoof-base --epochs "$BASE_EPOCHS"
shipped base
# the bundled pair converted the same way (litert int8, the same quantisation photos), then the paired report
MODELS="flat=$RUNS/flat-pred-int8,base=$RUNS/base-int8,bundled=$RUNS/bundled-int8,bundled-base=$RUNS/bundled-base-int8"
for pair in bundled=lite0-imagewoof bundled-base=lite0-imagewoof-base; do
  m=${pair%%=*}
  [ -f "$RUNS/$m-int8/manifest.json" ] || $NICE .venv/bin/drnet-edge convert --model "${pair#*=}" "${convert[@]}" \
    --quant-data "$QUANT" --threads 2 --out "$RUNS/$m-int8" > "$RUNS/$m-int8.log" 2>&1
done
$NICE .venv/bin/python benchmarks/reproduce/flatter_curve.py --runs "$RUNS" --calib "$CALIB" "${scored[@]}" --out "$OUT" \
  --models "$MODELS"
echo "done: $OUT.{json,md} (the report), $OUT.eval-{flat-pred,base}.json, $OUT.calibrate-flat.json; logs and times in $RUNS"
# the same report on the 628 photos of imagewoof-train-3k test:0/5 (trained on by no model here, calibrated on by
# no policy): a second, independent set for the fixed resolutions and the cross-fitted defaults
links heldout "$WOOF" test:0/5
$NICE .venv/bin/python benchmarks/reproduce/flatter_curve.py --runs "$RUNS" --calib "$RUNS/heldout" "${scored[@]}" \
  --out "${OUT}_heldout" \
  --models "$MODELS"
echo "done: ${OUT}_heldout.{json,md} (the same report on the 628 held-out photos)"
