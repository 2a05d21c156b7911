"""Probe: does a tighter centre crop help a 224-trained Lite0 at low resolutions? (FixRes: at a lower
input resolution objects look smaller than in training, so a tighter crop might bring them back.)

Frozen ImageNet EfficientNet-Lite0 (PyTorch fp32) on the 500 shared ImageNet photos, every resolution x
crop share, top-1 on all photos and on the two hash folds (test:0/2, test:1/2) the dynamic-policy
benchmark uses, so a crop share picked on one fold can be read on the other.

    .venv/bin/python benchmarks/probes/crop_probe.py   # writes benchmarks/results/crop_probe.json
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from _lite0_photos import DATA, load_lite0_photos

from drnet_edge._io import atomic_write_json
from drnet_edge.data.preprocess import center_crop_square, resize_square, to_tensor
from drnet_edge.progress import progress_bar

OUT = Path(__file__).resolve().parents[1] / "results" / "crop_probe.json"
RESOLUTIONS = (128, 160, 192, 224)
CROPS = (0.875, 0.8, 0.75, 0.7, 0.65)


@torch.no_grad()
def main() -> None:
    lp = load_lite0_photos()
    pre, net, images, labels, folds = lp.pre, lp.net, lp.images, lp.labels, lp.folds
    rows = []
    with progress_bar(len(RESOLUTIONS) * len(CROPS), "resolution x crop") as advance:
        for r in RESOLUTIONS:
            for crop in CROPS:
                x = np.stack([resize_square(center_crop_square(im, crop), r) for im in images])
                pred = torch.cat([net(to_tensor(x[i : i + 50], pre)).argmax(1) for i in range(0, len(x), 50)])
                ok = pred.numpy() == labels
                rows.append(
                    {
                        "resolution": r,
                        "crop_pct": crop,
                        "top1": float(ok.mean()),
                        "top1_fold0": float(ok[folds == 0].mean()),
                        "top1_fold1": float(ok[folds == 1].mean()),
                    }
                )
                advance(1)
    atomic_write_json(OUT, {"photos": str(DATA), "n": int(len(labels)), "model": "efficientnet_lite0", "rows": rows})


if __name__ == "__main__":
    main()
