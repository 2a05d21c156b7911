"""The table of benchmarks/reproduce/convert_lite0_imagenet.sh: sizes and held-out top-1 of every converted
artifact directory (``RUNS/{fp32,int8}``, evaluated into ``RUNS/<precision>-<target>.json``) against
PyTorch (``RUNS/pytorch.json``). Prints a table; writes benchmarks/results/convert_lite0_imagenet.json.

    .venv/bin/python benchmarks/reproduce/convert_lite0_imagenet_table.py runs/convert
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rich.console import Console
from rich.table import Table

RESULTS = Path(__file__).resolve().parents[1] / "results"
SHOWN = ("fixed-224", "fixed-128", "drnet")
KEPT = ("fixed-224", "fixed-192", "fixed-160", "fixed-128", "drnet")


def tabulate(runs: Path) -> tuple[dict, Table]:
    pytorch = json.loads((runs / "pytorch.json").read_text())
    ref = pytorch["policies"]
    table = Table(title=f"lite0-imagenet converted; top-1 on {pytorch['n']} held-out Imagewoof photos")
    for col in ("target", "precision", "files (MB)", "shared backbone weights", *SHOWN, "drnet vs PyTorch fp32"):
        table.add_column(col)
    table.add_row("pytorch", "fp32", "", "", *(f"{100 * ref[p]['top1']:.1f}%" for p in SHOWN), "")
    rows = []
    for prec in ("fp32", "int8"):
        manifest = json.loads((runs / prec / "manifest.json").read_text())
        for t, entry in manifest["targets"].items():
            pol = json.loads((runs / f"{prec}-{t}.json").read_text())["policies"]
            row = {
                "target": t,
                "precision": prec,
                "bytes": entry["bytes_total"],
                "shared": entry["shared_backbone_weights"],
                **{p: pol[p]["top1"] for p in KEPT},
            }
            rows.append(row)
            table.add_row(
                t,
                prec,
                f"{row['bytes'] / 1e6:.1f}",
                str(row["shared"]),
                *(f"{100 * row[p]:.1f}%" for p in SHOWN),
                f"{100 * (row['drnet'] - ref['drnet']['top1']):+.1f} pt",
            )
    out = {"n": pytorch["n"], "pytorch": {k: v["top1"] for k, v in ref.items()}, "artifacts": rows}
    return out, table


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("runs", type=Path, help="the RUNS folder of convert_lite0_imagenet.sh")
    ap.add_argument("--json", type=Path, default=RESULTS / "convert_lite0_imagenet.json")
    args = ap.parse_args()
    out, table = tabulate(args.runs)
    Console(width=160).print(table)
    args.json.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
