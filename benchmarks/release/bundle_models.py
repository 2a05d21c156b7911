"""Export trained checkpoints as the models bundled in the package (fp16 conv weights, no training
state) and write drnet_edge/resources/models/models.json with their sha256.

    python benchmarks/release/bundle_models.py lite0-imagenet=runs/lite0-imagenet.pt lite0-imagewoof=... \\
        --describe lite0-imagenet="..." [--folder-name runs/x/rest-a="imagewoof-train-rest train:0/2"]

The training-photo record (``meta['data']``, :mod:`drnet_edge.train.split`) keeps its counts and photo ids;
its folder paths are renamed (``--folder-name PATH=NAME``, else the folder's own name: a shipped file
names the photo sets, not paths on the machine that trained it).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from drnet_edge._io import atomic_write_json, sha256_file
from drnet_edge.models.checkpoint import export_for_shipping

MODELS = Path(__file__).resolve().parents[2] / "drnet_edge" / "resources" / "models"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("pairs", nargs="+", help="NAME=CHECKPOINT")
    ap.add_argument("--describe", action="append", default=[], help="NAME=description")
    ap.add_argument("--folder-name", action="append", default=[], help="PATH=NAME: a training folder's public name")
    args = ap.parse_args()
    descriptions = dict(d.split("=", 1) for d in args.describe)
    folder_names = dict(d.split("=", 1) for d in args.folder_name)
    index_path = MODELS / "models.json"
    index = json.loads(index_path.read_text()) if index_path.is_file() else {}
    for pair in args.pairs:
        name, src = pair.split("=", 1)
        dst = MODELS / f"{name}.pt"
        export_for_shipping(src, dst, folder_names=folder_names)
        index[name] = {
            "file": dst.name,
            "sha256": sha256_file(dst),
            "description": descriptions.get(name, index.get(name, {}).get("description", "")),
        }
        print(f"{name}: {dst} ({dst.stat().st_size / 1e6:.1f} MB)")
    atomic_write_json(index_path, dict(sorted(index.items())))


if __name__ == "__main__":
    main()
