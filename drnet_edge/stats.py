"""Paired statistics over per-image outcomes (two models or policies on the same photos)."""

from __future__ import annotations

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
