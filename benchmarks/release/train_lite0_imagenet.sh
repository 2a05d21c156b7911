#!/usr/bin/env bash
# The bundled default model lite0-imagenet: the frozen ImageNet Lite0 plus a predictor trained in
# predictor mode on every shared photo (imagenet-sample-dev and imagewoof-train-3k), with the same
# settings as the cross-validation in benchmarks/reproduce/cv_lite0_imagenet.sh. Then bundles it into the package.
set -euo pipefail
cd "$(dirname "$0")/../.."
.venv/bin/drnet-edge train --overwrite --data ../shared/data/imagenet-sample-dev --extra-data ../shared/data/imagewoof-train-3k \
  --mode predictor --resolutions 224,192,160,128 --views 4 --epochs 20 --target-ratio 0.6 --quiet \
  --cache-dir runs/lite0-imagenet-cache --out runs/lite0-imagenet.pt
.venv/bin/python benchmarks/release/bundle_models.py lite0-imagenet=runs/lite0-imagenet.pt \
  --describe "lite0-imagenet=ImageNet Lite0 (frozen, PyPI weights) + resolution predictor over 224/192/160/128 (predictor mode)"
