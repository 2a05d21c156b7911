"""Shared fixtures: tiny image folders made on the fly, and the shared photos when present."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

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
