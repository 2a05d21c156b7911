"""Paired statistics over per-image outcomes (two models or policies on the same photos)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np


def paired_top1(labels: np.ndarray, ref: np.ndarray, new: np.ndarray) -> dict[str, float]:
    """Two models' predicted classes on the same images: both top-1s, the change (new minus ref), its
    paired standard error, and how often they predict the same class."""
    d = (new == labels).astype(float) - (ref == labels).astype(float)
    return {
        "top1_ref": float((ref == labels).mean()),
        "top1_new": float((new == labels).mean()),
        "delta": float(d.mean()),
        "delta_se": float(d.std(ddof=1) / np.sqrt(len(d))) if len(d) > 1 else float("nan"),
        "agreement": float((ref == new).mean()),
    }


def bootstrap_ratio(
    num: np.ndarray, den: np.ndarray, stat: str = "mean", n_boot: int = 2000, seed: int = 0
) -> dict[str, Any]:
    """``stat(num) / stat(den)`` over paired samples (the same images), with a 95% percentile bootstrap
    interval that resamples images (``stat``: ``mean`` or ``median``)."""
    stats: dict[str, Callable[..., Any]] = {"mean": np.mean, "median": np.median}
    fn = stats[stat]
    num, den = np.asarray(num, dtype=np.float64), np.asarray(den, dtype=np.float64)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(num), size=(n_boot, len(num)))
    boots = fn(num[idx], axis=1) / fn(den[idx], axis=1)
    lo, hi = np.percentile(boots, [2.5, 97.5])
    return {"ratio": float(fn(num) / fn(den)), "ci95": [float(lo), float(hi)]}
