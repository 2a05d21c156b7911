"""The last step of benchmarks/release/train_imagewoof.sh: the trained checkpoints (``RUNS/joint.pt``,
``RUNS/base.pt``, those present) exported for shipping (fp16 conv weights, no training state) as
``RESULTS/lite0-imagewoof.pt`` and ``RESULTS/lite0-imagewoof-base.pt``, with their metrics logs.

    .venv/bin/python benchmarks/release/train_imagewoof_export.py runs/imagewoof benchmarks/results
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from drnet_edge.models.checkpoint import export_for_shipping

SHIPPED = (("joint.pt", "lite0-imagewoof.pt"), ("base.pt", "lite0-imagewoof-base.pt"))


def export(runs: Path, results: Path) -> None:
    for src, name in SHIPPED:
        if (runs / src).is_file():
            export_for_shipping(runs / src, results / name)
            shutil.copy(runs / (src + ".metrics.jsonl"), results / (name.removesuffix(".pt") + ".metrics.jsonl"))
            print("exported", results / name, (results / name).stat().st_size)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("runs", type=Path, help="the RUNS folder of train_imagewoof.sh")
    ap.add_argument("results", type=Path, help="where the shipping checkpoints go")
    args = ap.parse_args()
    export(args.runs, args.results)


if __name__ == "__main__":
    main()
