"""Probe: what would resizing inside the converted model cost in accuracy? (#11 asks to measure it: a
resize op at the head of each backbone, fed one uint8 square, so Python, ``benchmark_model`` and the app
run the same kernel and only one resize happens outside the model.)

Frozen ImageNet EfficientNet-Lite0 (PyTorch fp32) on the 500 shared ImageNet photos: the project's rule
(centre crop, integer area pre-shrink, bicubic straight to R) against one square of side ``--square``
made by that rule, then resized to R inside the network the ways TFLite can (``RESIZE_BILINEAR`` with
half-pixel centres and no antialiasing; PyTorch's ``area``) and with antialiased bilinear for
reference. Paired against the rule at each resolution, with the paired standard error.

    .venv/bin/python benchmarks/probes/inmodel_resize_probe.py   # writes benchmarks/results/inmodel_resize_probe.json
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from drnet_edge._io import atomic_write_json
from drnet_edge.data.folders import scan_folder
from drnet_edge.data.preprocess import crop_and_resize, load_image, to_tensor
from drnet_edge.models.backbones import create_backbone, get_backbone_cfg
from drnet_edge.policy.rows import paired
from drnet_edge.progress import progress_bar

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "imagenet-sample-dev"
OUT = Path(__file__).resolve().parents[1] / "results" / "inmodel_resize_probe.json"
RESOLUTIONS = (224, 192, 160, 128)
HEADS = {
    "bilinear (TFLite RESIZE_BILINEAR, half-pixel)": lambda x, r: F.interpolate(x, (r, r), mode="bilinear"),
    "area (box average)": lambda x, r: F.interpolate(x, (r, r), mode="area"),
    "bilinear, antialiased": lambda x, r: F.interpolate(x, (r, r), mode="bilinear", antialias=True),
}


@torch.no_grad()
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--square", type=int, default=256, help="side of the one square fed to every backbone")
    args = ap.parse_args()
    torch.set_num_threads(2)
    folder = scan_folder(DATA)
    pre = get_backbone_cfg("efficientnet_lite0").preprocess
    net = create_backbone("efficientnet_lite0").eval()
    labels = np.array(folder.labels)
    right = {(m, r): np.zeros(len(labels), bool) for m in ("rule", *HEADS) for r in RESOLUTIONS}
    with progress_bar(len(folder.paths), "photos") as advance:
        for i, path in enumerate(folder.paths):
            crops = crop_and_resize(load_image(path), [*RESOLUTIONS, args.square], pre)
            square = to_tensor(crops[args.square], pre)
            for r in RESOLUTIONS:
                right[("rule", r)][i] = net(to_tensor(crops[r], pre)).argmax(1).item() == labels[i]
                for name, head in HEADS.items():
                    right[(name, r)][i] = net(head(square, r)).argmax(1).item() == labels[i]
            advance(1)
    rows = []
    for name in ("rule", *HEADS):
        for r in RESOLUTIONS:
            row = {"resize": name, "resolution": r, "top1": float(right[(name, r)].mean())}
            if name != "rule":
                row["vs_rule"] = paired(right[(name, r)], right[("rule", r)])
            rows.append(row)
    result = {
        "photos": str(DATA),
        "n": int(len(labels)),
        "square": args.square,
        "model": "efficientnet_lite0 fp32",
        "rows": rows,
    }
    atomic_write_json(OUT, result)
    for row in rows:
        d = row.get("vs_rule")
        extra = f"  {d['delta_pts']:+.1f} (SE {d['se_pts']:.1f})" if d else ""
        print(f"{row['resize']:48s} {row['resolution']:4d}  {100 * row['top1']:.1f}%{extra}")


if __name__ == "__main__":
    main()
