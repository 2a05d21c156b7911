#!/usr/bin/env bash
# The bundled Imagewoof models on the held-out fold (test:0/5, 628 photos never used in training) of
# ../shared/data/imagewoof-train-3k: every fixed resolution of lite0-imagewoof, its predictor (drnet),
# the random control, both oracles, and the plain baseline lite0-imagewoof-base at 224.
# MODEL=path/to/ckpt.pt OUT=benchmarks/results/name evaluates another joint checkpoint the same way.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-benchmarks/results/imagewoof_holdout}
.venv/bin/drnet-edge eval --model "${MODEL:-lite0-imagewoof}" --baseline lite0-imagewoof-base \
  --data "${DATA:-../shared/data/imagewoof-train-3k}" --subset test:0/5 \
  --policies fixed,oracle,oracle-agree,drnet,random,baseline --threads 2 \
  --json "$OUT.json" --plot "$OUT.png"
