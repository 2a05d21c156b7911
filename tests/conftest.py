"""Shared fixtures: tiny image folders made on the fly, and the shared photos when present."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from drnet_edge.backbones import TF_LITE_PREPROCESS, create_backbone
from drnet_edge.checkpoint import make_checkpoint, save_checkpoint
from drnet_edge.data import ClassList
from drnet_edge.drnet import DRNet, PredictorCfg, ResolutionPredictor, make_resolution_aware

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
IMAGENET_DEV = SHARED / "imagenet-sample-dev"
IMAGEWOOF = SHARED / "imagewoof-train-3k"

needs_shared = pytest.mark.skipif(
    not IMAGENET_DEV.is_dir(), reason=f"shared photos not found at {IMAGENET_DEV} (integration tier needs ../shared)"
)


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the MACs cache out of the user's home."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "cache"))
    torch.manual_seed(0)


def write_image(path: Path, size: tuple[int, int] = (48, 64), seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    img = rng.integers(0, 255, size=(*size, 3), dtype=np.uint8)
    assert cv2.imwrite(str(path), img)
    return path


@pytest.fixture
def tiny_folder(tmp_path: Path) -> Path:
    """Two plain classes, three images each."""
    root = tmp_path / "data"
    for c, name in enumerate(["cat", "dog"]):
        for i in range(3):
            write_image(root / name / f"{i}.png", seed=10 * c + i)
    return root


@pytest.fixture
def wnid_folder(tmp_path: Path) -> Path:
    """ImageNet-style folders: tench (index 0) and goldfish (index 1)."""
    root = tmp_path / "wnid"
    for wnid in ["n01443537", "n01440764"]:  # goldfish (1), tench (0)
        write_image(root / wnid / "a.jpg", seed=3)
    return root


CLASSES = ("cat", "dog", "fox")


@pytest.fixture(scope="session")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A tiny resolution-aware DRNet checkpoint (resnet10t, 64/48 px) and a 3-class photo folder."""
    root = tmp_path_factory.mktemp("tiny")
    torch.manual_seed(0)
    backbone = create_backbone("resnet10t", pretrained=False, num_classes=3)
    make_resolution_aware(backbone, 2)
    predictor = ResolutionPredictor(PredictorCfg(2, thumb_size=32, trunk_stages=2), pretrained_trunk=False)
    model = DRNet(backbone.eval(), [64, 48], predictor.eval(), TF_LITE_PREPROCESS, backbone_name="resnet10t")
    classes = ClassList(CLASSES, CLASSES, "test")
    ckpt = save_checkpoint(root / "tiny.pt", make_checkpoint(model, classes, include_backbone=True))
    data = root / "photos"
    for c, name in enumerate(CLASSES):
        for i in range(4):
            write_image(data / name / f"{i}.png", size=(72, 80), seed=10 * c + i)
    return ckpt, data
