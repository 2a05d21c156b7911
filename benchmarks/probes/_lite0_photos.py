"""What the frozen-Lite0 probes share: the ImageNet EfficientNet-Lite0 and the 500 shared ImageNet
photos, decoded once, with their labels and the two hash folds ``benchmarks/probes/dynamic_policies.py`` uses."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from drnet_edge.data.folders import fold_of, scan_folder
from drnet_edge.data.preprocess import Preprocess, load_image
from drnet_edge.models.backbones import create_backbone, get_backbone_cfg

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
DATA = SHARED / "imagenet-sample-dev"


@dataclass
class Lite0Photos:
    net: nn.Module  # frozen, eval mode
    pre: Preprocess
    images: list[np.ndarray]  # decoded RGB photos
    labels: np.ndarray
    folds: np.ndarray  # 0 or 1: test:0/2, test:1/2


def load_lite0_photos(threads: int = 2) -> Lite0Photos:
    """Frozen ImageNet Lite0 and the shared ImageNet photos (decoded), labels and folds."""
    torch.set_num_threads(threads)
    folder = scan_folder(DATA)
    return Lite0Photos(
        net=create_backbone("efficientnet_lite0").eval(),
        pre=get_backbone_cfg("efficientnet_lite0").preprocess,
        images=[load_image(p) for p in folder.paths],
        labels=np.array(folder.labels),
        folds=np.array([fold_of(Path(p), DATA, 2) for p in folder.paths]),
    )
