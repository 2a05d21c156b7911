#!/usr/bin/env bash
# The TFLite route through ONNX and onnx2tf (--via onnx2tf), fp32 and int8 (TensorFlow Lite's
# full-integer post-training quantization, 100 calibration views of the bundled sample), on the
# default model, evaluated like benchmarks/convert_lite0_imagenet.sh: the 628 photos of the held-out
# Imagewoof fold test:0/5. Writes runs/convert/onnx2tf-<precision>/ and
# benchmarks/results/convert_onnx2tf.json.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-runs/convert}
DATA=${DATA:-../shared/data/imagewoof-train-3k}
mkdir -p "$RUNS"
for prec in fp32 int8; do
  flag=""; [ "$prec" = int8 ] && flag="--int8"
  .venv/bin/drnet-edge convert --model lite0-imagenet --target tflite --via onnx2tf $flag --threads 2 \
    --out "$RUNS/onnx2tf-$prec" > "$RUNS/onnx2tf-$prec.log" 2>&1
  .venv/bin/drnet-edge eval --runtime tflite --artifacts "$RUNS/onnx2tf-$prec" --data "$DATA" --subset test:0/5 \
    --policies fixed,drnet --threads 2 --quiet --json "$RUNS/onnx2tf-$prec-eval.json" > /dev/null
done
.venv/bin/python - "$RUNS" <<'PYEOF'
import json, sys
from pathlib import Path
runs = Path(sys.argv[1])
out = {}
print("| route | precision | files (MB) | fixed-224 | fixed-192 | fixed-160 | fixed-128 | drnet |")
print("|---|---|---|---|---|---|---|---|")
for name, d in (("litert", ""), ("onnx2tf", "onnx2tf-")):
    for prec in ("fp32", "int8"):
        ev = runs / (f"{d}{prec}-eval.json" if d else f"{prec}-tflite.json")
        if not ev.is_file():
            continue
        r = json.loads(ev.read_text())
        man = json.loads((runs / f"{d}{prec}" / "manifest.json").read_text())
        mb = man["targets"]["tflite"]["bytes_total"] / 1e6
        p = {k: v["top1"] for k, v in r["policies"].items()}
        out[f"{name}-{prec}"] = {"top1": p, "bytes_total": man["targets"]["tflite"]["bytes_total"], "n": r["n"]}
        print(f"| {name} | {prec} | {mb:.1f} | " + " | ".join(f"{100 * p[k]:.1f}%" for k in ("fixed-224", "fixed-192", "fixed-160", "fixed-128", "drnet")) + " |")
Path("benchmarks/results/convert_onnx2tf.json").write_text(json.dumps(out, indent=2) + "\n")
PYEOF
