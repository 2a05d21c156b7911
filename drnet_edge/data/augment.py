"""Training-time augmentation: a random resized crop (+ flip) cut once and resized to every size.

The centre-crop view (no generator) is exactly :func:`drnet_edge.data.preprocess.center_crop_square`
followed by :func:`~drnet_edge.data.preprocess.resize_square`, the deployment rule.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .preprocess import Preprocess, center_square, resize_square


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


Box = tuple[int, int, int, int, int]  # a view's region: top, left, height, width, flipped (0/1)


def view_box(shape: tuple[int, ...], pre: Preprocess, g: torch.Generator | None) -> Box:
    """Where one view cuts an image of ``shape``: the centre crop (``g`` is None) or a random resized
    crop, flipped half the time (the draws in the order :func:`view_crops` has always made them)."""
    h, w = shape[:2]
    if g is None:
        top, left, side = center_square(h, w, pre.crop_pct)
        return top, left, side, side, 0
    top, left, ch, cw = random_box(h, w, g)
    return top, left, ch, cw, int(torch.rand(1, generator=g).item() < 0.5)


def crops_from_box(img: np.ndarray, box: Box, sizes: list[int], pre: Preprocess) -> dict[int, np.ndarray]:
    """The view ``box`` of ``img`` resized to every size (any size later, from the same ``box``)."""
    top, left, ch, cw, flip = (int(v) for v in box)
    region = img[top : top + ch, left : left + cw]
    region = np.ascontiguousarray(region[:, ::-1] if flip else region)
    return {s: resize_square(region, s, pre.interpolation) for s in sizes}


def view_crops(img: np.ndarray, sizes: list[int], pre: Preprocess, g: torch.Generator | None) -> dict[int, np.ndarray]:
    """One view: the centre crop (``g`` is None) or a random resized crop + flip, at every size."""
    return crops_from_box(img, view_box(img.shape, pre, g), sizes, pre)
