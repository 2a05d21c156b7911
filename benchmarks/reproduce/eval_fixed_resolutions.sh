#!/usr/bin/env bash
# Lite0 (PyTorch fp32) at every default resolution, plus the two oracle bounds, on the
# 500 shared ImageNet photos. Writes benchmarks/results/lite0_fixed.{json,png}.
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA=${DATA:-../shared/data/imagenet-sample-dev}
.venv/bin/drnet-edge eval --data "$DATA" --backbone efficientnet_lite0 \
  --resolutions 224,192,160,128,96 --policies fixed,oracle,oracle-agree \
  --threads 2 --json benchmarks/results/lite0_fixed.json --plot benchmarks/results/lite0_fixed.png
