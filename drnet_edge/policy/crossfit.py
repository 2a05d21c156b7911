"""Out-of-fold scoring: choose a policy on some photos, apply it to the others, pool.

Every photo is scored once, by a policy chosen without it, so the pooled top-1 and MACs estimate
what the choosing rule does on photos it has not seen. ``calibrate`` uses this inside its
calibration photos to pick a policy family; the benchmarks use it to report a calibrated default
on photos it was not calibrated on (cross-fit).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePath

import numpy as np

from .registry import Predictions, expand_policies

Chooser = Callable[[Predictions], str]  # calibration photos -> the name of the policy to apply


def fold_ids(preds: Predictions, k: int) -> np.ndarray:
    """A stable fold (0..k-1) per photo: a hash of its class folder and file name when paths are
    known (the same photo lands in the same fold on any machine), else a seeded permutation."""
    if preds.paths:
        keys = [PurePath(p).parent.name + "/" + PurePath(p).name for p in preds.paths]
        return np.array([int.from_bytes(hashlib.sha256(s.encode()).digest()[:8], "big") % k for s in keys])
    return np.random.default_rng(0).permutation(preds.n) % k


@dataclass
class OutOfFold:
    """Per photo, what the policy chosen without it did; ``policies`` names each fold's choice."""

    correct: np.ndarray  # (N,) bool
    macs: np.ndarray  # (N,) MACs spent on the photo (every pass, plus the predictor where it ran)
    final: np.ndarray  # (N,) resolution index answered from
    ran: np.ndarray  # (N, K) resolutions run
    policies: list[str]

    @property
    def top1(self) -> float:
        return float(self.correct.mean())

    def estimate(self, reference_macs: float) -> dict[str, float]:
        """Top-1 and MACs ratio (against ``reference_macs``) with their standard errors."""
        n = len(self.correct)
        se = lambda a: float(a.std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan")  # noqa: E731
        ratio = self.macs / reference_macs
        return {"top1": self.top1, "top1_se": se(self.correct.astype(float)), "macs_ratio": float(ratio.mean()),
                "macs_ratio_se": se(ratio), "n": n}  # fmt: skip


def out_of_fold(
    preds: Predictions, choose: Chooser, macs: dict[int, int], predictor_macs: int = 0, k: int = 5
) -> OutOfFold:
    """For each of ``k`` folds, ``choose`` a policy on the other folds and apply it to this one.
    ``choose`` may raise :class:`~drnet_edge.errors.ConfigError` (nothing qualifies): it propagates."""
    res = preds.resolutions
    cost = np.array([macs[r] for r in res], dtype=np.float64)
    right = preds.correct() if preds.labelled else preds.agree()
    ids = fold_ids(preds, k)
    final = np.zeros(preds.n, dtype=np.int64)
    ran = np.zeros((preds.n, len(res)), dtype=bool)
    spent = np.zeros(preds.n)
    names = []
    for f in range(k):
        held = ids == f
        if not held.any():
            continue
        name = choose(preds.subset(~held))
        names.append(name)
        d = expand_policies([name], res, with_controls=False)[0].decide(preds.subset(held))
        final[held], ran[held] = d.final, d.ran
        spent[held] = d.ran @ cost + (predictor_macs if d.uses_predictor else 0)
    return OutOfFold(right[np.arange(preds.n), final], spent, final, ran, names)
