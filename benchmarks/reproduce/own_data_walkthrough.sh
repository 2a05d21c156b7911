#!/usr/bin/env bash
# The own-data walkthrough of docs/own-data.md, start to finish, as a new user runs it: 10 dog breeds in
# folders with human names (symlinks into the Imagewoof photos), trained on a CPU, calibrated, converted to
# TFLite int8 and benched on this machine. Every command's console output (off a terminal: the plain
# progress lines) and its wall time go to $LOG/<step>.log; a finished step is skipped on a rerun (delete its
# log to redo it). The breeds are ImageNet classes renamed: the ImageNet-pretrained backbone knows them, so
# accuracy on classes that are truly new to it will be lower.
#   train   60 photos a breed from the Imagewoof training split (600)
#   unseen  the next 30 a breed (300): the predictor's second round (photos the backbone did not train on)
#   calib   Imagewoof validation split, 40% of the first 70 a breed (~280): policy choice
#   val     the rest of those 70 (~380): every reported figure; nothing is chosen on them
set -euo pipefail
cd "$(dirname "$0")/../.."
DRNET=${DRNET:-.venv/bin/drnet-edge}
WOOF_TRAIN=${WOOF_TRAIN:-../shared/data/imagewoof-train-3k}
WOOF_VAL=${WOOF_VAL:-../shared/data/imagewoof-val-calib}
WORK=${WORK:-runs/own-data}
LOG=${LOG:-benchmarks/results/own_data}
EPOCHS=${EPOCHS:-6}
mkdir -p "$WORK" "$LOG"

declare -A BREEDS=(
  [n02086240]=shih_tzu [n02087394]=rhodesian_ridgeback [n02088364]=beagle [n02089973]=english_foxhound
  [n02093754]=border_terrier [n02096294]=australian_terrier [n02099601]=golden_retriever
  [n02105641]=old_english_sheepdog [n02111889]=samoyed [n02115641]=dingo
)
link() {  # link SRC_DIR DEST_DIR FIRST COUNT: photos FIRST..FIRST+COUNT-1 (sorted by name)
  mkdir -p "$2"
  ls "$1" | sort | tail -n +"$(($3 + 1))" | sed -n "1,${4}p" | while read -r f; do ln -sf "$(realpath "$1/$f")" "$2/$f"; done
}
if [ ! -d "$WORK/dogs/val" ]; then
  for wnid in "${!BREEDS[@]}"; do
    name=${BREEDS[$wnid]}
    link "$WOOF_TRAIN/$wnid" "$WORK/dogs/train/$name" 0 60
    link "$WOOF_TRAIN/$wnid" "$WORK/dogs/unseen/$name" 60 30
    n=$(ls "$WOOF_VAL/$wnid" | wc -l); n=$((n < 70 ? n : 70)); c=$((n * 4 / 10))
    link "$WOOF_VAL/$wnid" "$WORK/dogs/calib/$name" 0 "$c"
    link "$WOOF_VAL/$wnid" "$WORK/dogs/val/$name" "$c" $((n - c))
  done
fi
for s in train unseen calib val; do echo "$s: $(find "$WORK/dogs/$s" -type l | wc -l) photos"; done | tee "$LOG/photos.txt"

step() {  # step NAME COMMAND...: run once, console output and wall time to $LOG/NAME.log
  local name=$1; shift
  [ -f "$LOG/$name.log" ] && { echo "skip $name (done: $LOG/$name.log)"; return; }
  echo "== $name"
  local start=$SECONDS
  { echo "\$ ${*//$DRNET/drnet-edge}"; "$@" 2>&1; echo "[wall time: $((SECONDS - start)) s]"; } > "$LOG/$name.log.tmp"
  mv "$LOG/$name.log.tmp" "$LOG/$name.log"
  tail -n 3 "$LOG/$name.log"
}
D=$WORK/dogs
step 1-train-joint $DRNET train --overwrite --data $D/train --out $WORK/dogs.pt --epochs "$EPOCHS" --val $D/val
step 2-train-plain $DRNET train --overwrite --data $D/train --out $WORK/dogs-base.pt --mode plain --epochs "$EPOCHS" --val $D/val
step 3-train-predictor $DRNET train --overwrite --mode predictor --init-from $WORK/dogs.pt --data $D/unseen --out $WORK/dogs-pred.pt --val $D/val
# the same predictor round for 50 epochs (the outcome cache of step 3 is reused: epochs cost seconds)
step 3b-train-predictor-50 $DRNET train --overwrite --mode predictor --init-from $WORK/dogs.pt --data $D/unseen --out $WORK/dogs-pred50.pt \
  --cache-dir $WORK/dogs-pred.pt.cache --epochs 50 --val $D/val
step 4-eval $DRNET eval --model $WORK/dogs-pred.pt --baseline $WORK/dogs-base.pt --data $D/val \
  --policies fixed,drnet,random,baseline --json $LOG/4-eval.json
step 5-calibrate $DRNET calibrate --model $WORK/dogs-pred.pt --data $D/calib --target-ratio 0.6 \
  --out $WORK/dogs-cal.pt --json $LOG/5-calibrate.json
step 6-eval-calibrated $DRNET eval --model $WORK/dogs-cal.pt --data $D/val --json $LOG/6-eval-calibrated.json
step 7-convert $DRNET convert --model $WORK/dogs-cal.pt --target tflite --int8 --via onnx2tf --quant-data $D/train \
  --policy-data $D/calib --target-ratio 0.6 --out $WORK/dogs-tflite
step 8-eval-int8 $DRNET eval --artifacts $WORK/dogs-tflite --runtime tflite --data $D/val --json $LOG/8-eval-int8.json
step 9-bench $DRNET bench --artifacts $WORK/dogs-tflite --data $D/val --json $LOG/9-bench.json --report $LOG/9-bench.md
