#!/usr/bin/env bash
# Converts the bundled lite0-imagenet to every target, fp32 and int8 (calibrated on 100 views of the
# bundled sample), evaluates each artifact directory on the held-out Imagewoof fold (test:0/5, 628
# photos, none of them used for calibration) with the same policies as PyTorch, and tabulates sizes.
# Writes benchmarks/results/convert_lite0_imagenet.json.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-runs/convert}
DATA=${DATA:-../shared/data/imagewoof-train-3k}
mkdir -p "$RUNS"
.venv/bin/drnet-edge eval --model lite0-imagenet --data "$DATA" --subset test:0/5 --policies fixed,drnet \
  --threads 2 --quiet --json "$RUNS/pytorch.json" > /dev/null
for prec in ${PRECISIONS:-fp32 int8}; do
  flag=""; [ "$prec" = int8 ] && flag="--int8"
  .venv/bin/drnet-edge convert --model lite0-imagenet --target all $flag --threads 2 --out "$RUNS/$prec" > "$RUNS/$prec.log" 2>&1
  for t in tflite executorch onnx; do
    .venv/bin/drnet-edge eval --runtime "$t" --artifacts "$RUNS/$prec" --data "$DATA" --subset test:0/5 \
      --policies fixed,drnet --threads 2 --quiet --json "$RUNS/$prec-$t.json" > /dev/null
  done
done
.venv/bin/python - "$RUNS" <<'PYEOF'
import json, sys
from pathlib import Path
from rich.console import Console
from rich.table import Table
runs = Path(sys.argv[1])
ref = json.loads((runs / "pytorch.json").read_text())["policies"]
rows, table = [], Table(title=f"lite0-imagenet converted; top-1 on {json.loads((runs / 'pytorch.json').read_text())['n']} held-out Imagewoof photos")
for col in ("target", "precision", "files (MB)", "shared backbone weights", "fixed-224", "fixed-128", "drnet", "drnet vs PyTorch fp32"):
    table.add_column(col)
table.add_row("pytorch", "fp32", "", "", *(f"{100 * ref[p]['top1']:.1f}%" for p in ("fixed-224", "fixed-128", "drnet")), "")
for prec in ("fp32", "int8"):
    manifest = json.loads((runs / prec / "manifest.json").read_text())
    for t, entry in manifest["targets"].items():
        pol = json.loads((runs / f"{prec}-{t}.json").read_text())["policies"]
        row = {"target": t, "precision": prec, "bytes": entry["bytes_total"], "shared": entry["shared_backbone_weights"],
               **{p: pol[p]["top1"] for p in ("fixed-224", "fixed-192", "fixed-160", "fixed-128", "drnet")}}
        rows.append(row)
        table.add_row(t, prec, f"{row['bytes'] / 1e6:.1f}", str(row["shared"]), *(f"{100 * row[p]:.1f}%" for p in ("fixed-224", "fixed-128", "drnet")),
                      f"{100 * (row['drnet'] - ref['drnet']['top1']):+.1f} pt")
Console(width=160).print(table)
out = {"n": json.loads((runs / "pytorch.json").read_text())["n"], "pytorch": {k: v["top1"] for k, v in ref.items()}, "artifacts": rows}
Path("benchmarks/results/convert_lite0_imagenet.json").write_text(json.dumps(out, indent=2) + "\n")
PYEOF
