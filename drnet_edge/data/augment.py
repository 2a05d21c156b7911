"""Training-time augmentation: a random resized crop (+ flip) cut once and resized to every size.

The centre-crop view (no generator) is exactly :func:`drnet_edge.data.preprocess.center_crop_square`
followed by :func:`~drnet_edge.data.preprocess.resize_square`, the deployment rule.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .preprocess import Preprocess, center_crop_square, resize_square


def random_box(
    h: int, w: int, g: torch.Generator, scale: tuple[float, float] = (0.25, 1.0)
) -> tuple[int, int, int, int]:
    """A random-resized-crop box (top, left, height, width), drawn from generator ``g``."""
    area = h * w
    for _ in range(10):
        target = area * float(torch.empty(1).uniform_(*scale, generator=g))
        log_r = float(torch.empty(1).uniform_(math.log(3 / 4), math.log(4 / 3), generator=g))
        ratio = math.exp(log_r)
        cw, ch = int(round(math.sqrt(target * ratio))), int(round(math.sqrt(target / ratio)))
        if 0 < cw <= w and 0 < ch <= h:
            top = int(torch.randint(0, h - ch + 1, (1,), generator=g))
            left = int(torch.randint(0, w - cw + 1, (1,), generator=g))
            return top, left, ch, cw
    side = min(h, w)
    return (h - side) // 2, (w - side) // 2, side, side


def view_crops(img: np.ndarray, sizes: list[int], pre: Preprocess, g: torch.Generator | None) -> dict[int, np.ndarray]:
    """One view: the centre crop (``g`` is None) or a random resized crop + flip, at every size."""
    if g is None:
        region = center_crop_square(img, pre.crop_pct)
    else:
        top, left, ch, cw = random_box(*img.shape[:2], g)
        region = img[top : top + ch, left : left + cw]
        if torch.rand(1, generator=g).item() < 0.5:
            region = region[:, ::-1]
    region = np.ascontiguousarray(region)
    return {s: resize_square(region, s, pre.interpolation) for s in sizes}
