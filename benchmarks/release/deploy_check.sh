#!/usr/bin/env bash
# make deploy-check: the deploy side installed without PyTorch gives the full install's answers.
#   1. the full install (.venv) converts the bundled default model to TFLite int8 (litert route) and runs
#      predict, eval --runtime tflite and bench --device local on the bundled sample photos;
#   2. a fresh venv gets the base install only (pip install ., no extra) from a wheel of this tree, and
#      `import torch` must fail there;
#   3. the same three commands run in it; benchmarks/release/deploy_check_compare.py compares the JSON.
# The bench's timings are not compared (one run each, not interleaved): only its answers.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${1:-out/deploy}
FULL=.venv/bin/drnet-edge
DVENV=$OUT/venv
ART=$OUT/tflite-int8
SAMPLE=$(.venv/bin/python -c "from drnet_edge.data.folders import sample_dir; print(sample_dir())")
mkdir -p "$OUT"
[ -f "$ART/manifest.json" ] || $FULL convert --target tflite --int8 --via litert --out "$ART"
run_all() {  # run_all DRNET_EDGE TAG
  "$1" predict --artifacts "$ART" "$SAMPLE" --top 3 --quiet --json "$OUT/$2-predict.json" > /dev/null
  "$1" eval --artifacts "$ART" --runtime tflite --data "$SAMPLE" --policies fixed,drnet,random,cascade-160:0.6-224 \
    --quiet --json "$OUT/$2-eval.json" > /dev/null
  "$1" bench --artifacts "$ART" --data "$SAMPLE" --runs 5 --warmup 1 --quiet --json "$OUT/$2-bench.json" > /dev/null
}
run_all "$FULL" full
if [ ! -x "$DVENV/bin/python" ]; then
  python3 -m venv "$DVENV"
  "$DVENV/bin/python" -m pip install --quiet --upgrade pip
fi
# the wheel of this tree, every time (a venv kept from an earlier run must not test older code); built by
# drnet_edge.wheelhouse.project_wheel, which keeps setuptools' build/ out of the tree (a stale one could ship
# moved modules twice)
if [ -d "${OUT:?}/wheel" ]; then rm -rf "${OUT:?}/wheel"; fi
WHEEL=$(.venv/bin/python -c "import sys; from pathlib import Path; from drnet_edge.wheelhouse import project_wheel; print(project_wheel(Path(sys.argv[1])))" "$OUT/wheel")
"$DVENV/bin/python" -m pip install --quiet --force-reinstall --no-deps "$WHEEL"
"$DVENV/bin/python" -m pip install --quiet "$WHEEL"
if "$DVENV/bin/python" -c "import torch" 2>/dev/null; then
  echo "deploy-check: torch is importable in the deploy-side venv $DVENV; it must not be" >&2
  exit 1
fi
echo "deploy-side venv: no torch ($("$DVENV/bin/python" -m pip list 2>/dev/null | wc -l) packages)"
run_all "$DVENV/bin/drnet-edge" deploy
.venv/bin/python benchmarks/release/deploy_check_compare.py "$OUT"
