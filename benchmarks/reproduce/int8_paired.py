"""int8 against fp32, image by image: per resolution and for the DRNet pipeline, the top-1 change with
its paired standard error, and how often int8 and fp32 give the same class.

The fp32 reference is the PyTorch model (the fp32 artifacts give its top-1 exactly; see the README's
conversion table). Each route's int8 artifacts (from benchmarks/reproduce/convert_lite0_imagenet.sh and
benchmarks/reproduce/convert_onnx2tf.sh) run through drnet_edge.runtime.artifacts on the same photos. Default photos: the
whole of imagewoof-train-3k split into the held-out fold test:0/5 (628, the README's conversion
table) and the other folds train:0/5 (2,372); the int8 recipe was fixed before any of the train:0/5
figures were looked at, and the ImageNet backbone never trained on an Imagewoof photo. Writes
benchmarks/results/int8_paired.{json,md}.

    .venv/bin/python benchmarks/reproduce/int8_paired.py [--subsets test:0/5,train:0/5] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

import drnet_edge as de
from drnet_edge._io import atomic_write_text
from drnet_edge.policy.registry import Predictions
from drnet_edge.policy.stats import paired_top1

ROUTES = {
    "TFLite via onnx2tf": ("runs/convert/onnx2tf-int8", "tflite"),
    "TFLite via litert-torch": ("runs/convert/int8", "tflite"),
    "ExecuTorch": ("runs/convert/int8", "executorch"),
    "ONNX (onnxruntime)": ("runs/convert/int8", "onnx"),
}


def columns(p: Predictions) -> dict[str, np.ndarray]:
    """Predicted class per image for every fixed resolution and for the model's own drnet choice."""
    out = {f"fixed-{r}": p.top1[:, k] for k, r in enumerate(p.resolutions)}
    if p.predictor_choice is not None:
        out["drnet"] = p.top1[np.arange(p.n), p.predictor_choice]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", default="../shared/data/imagewoof-train-3k")
    ap.add_argument("--subsets", default="test:0/5,train:0/5")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/int8_paired"))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    net, _ = de.open_model(de.ModelSource(model="lite0-imagenet"))
    res = {"reference": "PyTorch fp32 lite0-imagenet", "data": args.data, "subsets": {}}
    lines = []
    for subset in args.subsets.split(","):
        folder = de.scan_folder(args.data, subset=subset)
        ref, _ = de.predict_folder(net, folder, net.resolutions, net.preprocess, progress=False)
        ref_cols = columns(ref)
        rows = {}
        for route, (root, target) in ROUTES.items():
            if not Path(root, "manifest.json").is_file():
                print(f"{route}: {root} missing (run the convert benchmarks first); skipped")
                continue
            art, _ = de.open_model(de.ModelSource(artifacts=root, runtime=target), threads=args.threads)
            got, _ = de.predict_folder(art, folder, net.resolutions, net.preprocess, progress=False)
            assert got.paths == ref.paths
            rows[route] = {name: paired_top1(ref.labels, ref_cols[name], col) for name, col in columns(got).items()}
        res["subsets"][subset] = {"n": ref.n, "routes": rows}
        names = list(ref_cols)
        lines += [
            f"\n{subset} (n = {ref.n}): int8 minus fp32 top-1, points (paired SE); class agreement with fp32\n",
            "| route | " + " | ".join(names) + " |",
            "|---|" + "---|" * len(names),
        ]
        fp32 = " | ".join(f"{100 * float((ref_cols[n] == ref.labels).mean()):.1f}%" for n in names)
        lines.append(f"| fp32 top-1 (PyTorch) | {fp32} |")
        for route, cols in rows.items():
            cells = [
                f"{100 * c['delta']:+.1f} ({100 * c['delta_se']:.1f}); {100 * c['agreement']:.0f}%"
                for c in (cols[n] for n in names)
            ]
            lines.append(f"| {route} | " + " | ".join(cells) + " |")
        print("\n".join(lines[-len(rows) - 4 :]), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(args.out.with_suffix(".json"), json.dumps(res, indent=2) + "\n")
    atomic_write_text(args.out.with_suffix(".md"), "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
