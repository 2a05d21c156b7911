"""The training data set: augmented views of every image at every resolution plus the predictor's
thumbnail (the crops themselves come from :mod:`drnet_edge.data.augment`)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from ..data.augment import crops_from_box, view_box
from ..data.folders import ImageFolder
from ..data.preprocess import Preprocess, load_image


class ViewDataset(Dataset):
    """Image ``i`` in epoch ``e`` gets augmentation drawn from a generator seeded by (seed, e, i):
    identical across worker counts and after ``--resume``."""

    def __init__(self, folder: ImageFolder, sizes: list[int], pre: Preprocess, seed: int, augment: bool) -> None:
        self.folder, self.sizes, self.pre, self.seed, self.augment = (
            folder,
            sorted(set(sizes), reverse=True),
            pre,
            seed,
            augment,
        )
        self.epoch = 0

    def __len__(self) -> int:
        return len(self.folder)

    def generator(self, i: int, view: int | None) -> torch.Generator | None:
        """The draws of image ``i``'s view: None for the centre crop (view ``None``, or no augmentation),
        else a generator seeded by (seed, view, i)."""
        if view is None or not self.augment:
            return None
        return torch.Generator().manual_seed((self.seed * 1_000_003 + view * 7919 + i) & 0x7FFFFFFF)

    def item(self, i: int, view: int | None) -> dict[str, Any]:
        """View ``None`` is the centre crop; view ``v`` a random crop seeded by (seed, v, i)."""
        img = load_image(self.folder.paths[i])
        box = view_box(img.shape, self.pre, self.generator(i, view))
        return {"index": i, "label": self.folder.labels[i], "crops": crops_from_box(img, box, self.sizes, self.pre),
                "box": box}  # fmt: skip

    def __getitem__(self, i: int) -> dict[str, Any]:
        return self.item(i, 100_000 + self.epoch)


def collate_views(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "index": torch.tensor([it["index"] for it in items]),
        "label": torch.tensor([it["label"] for it in items]),
        "crops": {s: np.stack([it["crops"][s] for it in items]) for s in items[0]["crops"]},
    }
