"""The table of benchmarks/reproduce/convert_onnx2tf.sh: the TFLite routes (litert: ``RUNS/<precision>`` evaluated
into ``RUNS/<precision>-tflite.json``; onnx2tf: ``RUNS/onnx2tf-<precision>`` evaluated into
``RUNS/onnx2tf-<precision>-eval.json``) side by side, those present. Prints a markdown table; writes
benchmarks/results/convert_onnx2tf.json.

    .venv/bin/python benchmarks/reproduce/convert_onnx2tf_table.py runs/convert
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

RESULTS = Path(__file__).resolve().parents[1] / "results"
POLICIES = ("fixed-224", "fixed-192", "fixed-160", "fixed-128", "drnet")


def tabulate(runs: Path) -> tuple[dict, list[str]]:
    out: dict = {}
    lines = [f"| route | precision | files (MB) | {' | '.join(POLICIES)} |", "|---|---|---|---|---|---|---|---|"]
    for name, d in (("litert", ""), ("onnx2tf", "onnx2tf-")):
        for prec in ("fp32", "int8"):
            ev = runs / (f"{d}{prec}-eval.json" if d else f"{prec}-tflite.json")
            if not ev.is_file():
                continue
            r = json.loads(ev.read_text())
            man = json.loads((runs / f"{d}{prec}" / "manifest.json").read_text())
            size = man["targets"]["tflite"]["bytes_total"]
            p = {k: v["top1"] for k, v in r["policies"].items()}
            out[f"{name}-{prec}"] = {"top1": p, "bytes_total": size, "n": r["n"]}
            lines.append(
                f"| {name} | {prec} | {size / 1e6:.1f} | " + " | ".join(f"{100 * p[k]:.1f}%" for k in POLICIES) + " |"
            )
    return out, lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("runs", type=Path, help="the RUNS folder of convert_onnx2tf.sh (and convert_lite0_imagenet.sh)")
    ap.add_argument("--json", type=Path, default=RESULTS / "convert_onnx2tf.json")
    args = ap.parse_args()
    out, lines = tabulate(args.runs)
    print("\n".join(lines))
    args.json.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
