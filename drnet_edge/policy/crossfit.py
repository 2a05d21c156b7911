"""Out-of-fold scoring: choose a policy on some photos, apply it to the others, pool.

Every photo is scored once, by a policy chosen without it, so the pooled top-1 and MACs estimate
what the choosing rule does on photos it has not seen. ``calibrate`` uses this inside its
calibration photos to pick a policy family; the benchmarks use it to report a calibrated default
on photos it was not calibrated on (cross-fit).

Folds come from a salted hash of each photo's class folder and file name
(:func:`drnet_edge.data.folders.hash_fold`). The salt keeps them independent of every other split:
``--subset test:K/N`` hashes the path unsalted, so folds hashed the same way put a whole ``test:0/5``
subset in one fold (#30), and a cross-fit around ``calibrate`` (:data:`CROSSFIT_SALT`) needs folds
other than the calibration folds inside it, or its inner folds are its outer ones.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePath

import numpy as np

from ..data.folders import hash_fold
from ..errors import ConfigError
from .registry import Predictions, expand_policies

Chooser = Callable[[Predictions], str]  # calibration photos -> the name of the policy to apply

CALIBRATION_SALT = "drnet-edge/calibration-folds:"  # calibrate's out-of-fold folds (the default)
CROSSFIT_SALT = "drnet-edge/crossfit-folds:"  # a cross-fit around calibrate: folds other than its inner ones


def photo_key(path: str) -> str:
    """``class/file.jpg``: what a photo's fold hashes. Its class folder and file name (Unicode NFC, as
    file systems differ), not where the data folder is: the same photo, the same fold on any machine."""
    p = PurePath(path)
    return unicodedata.normalize("NFC", f"{p.parent.name}/{p.name}")


def path_folds(paths: list[str], k: int, salt: str = CALIBRATION_SALT) -> np.ndarray:
    """The fold (0..k-1) of each photo path: :func:`hash_fold` of its :func:`photo_key` with ``salt``."""
    return np.array([hash_fold(photo_key(p), k, salt) for p in paths], dtype=np.int64)


def fold_ids(preds: Predictions, k: int, salt: str = CALIBRATION_SALT) -> np.ndarray:
    """A stable fold (0..k-1) per photo: :func:`path_folds` when paths are known, else a seeded
    permutation."""
    if preds.paths:
        return path_folds(preds.paths, k, salt)
    return np.random.default_rng(0).permutation(preds.n) % k


def within_fold_permutation(ids: np.ndarray, k: int, seed: int = 0) -> np.ndarray:
    """Row indices shuffled within each of the ``k`` folds ``ids`` (fold by fold, one generator seeded
    with ``seed``): a cross-fitted policy's random control deals each fold's decisions to that fold's
    photos at random, ``decisions[perm]``."""
    rng = np.random.default_rng(seed)
    perm = np.arange(len(ids))
    for f in range(k):
        rows = np.flatnonzero(ids == f)
        perm[rows] = rng.permutation(rows)
    return perm


def require_folds(ids: np.ndarray, k: int) -> None:
    """Refuse a split with an empty fold: a policy would be chosen for, or on, no photos."""
    sizes = np.bincount(np.asarray(ids, dtype=np.int64), minlength=k)
    if len(ids) and sizes.min() > 0:
        return
    n = len(ids)
    if n < k:
        raise ConfigError(
            f"--folds {k}: {n} calibration photos, fewer photos than folds, so a fold would hold none and the "
            "policy families could not be estimated out of fold; pass more photos or fewer --folds"
        )
    raise ConfigError(
        f"--folds {k}: fold {int(np.argmin(sizes))} of the {n} calibration photos is empty (photos go to folds by "
        "a hash of their class folder and file name, and so few left one without any); pass more photos or "
        "fewer --folds"
    )


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
    preds: Predictions,
    choose: Chooser,
    macs: dict[int, int],
    predictor_macs: int = 0,
    k: int = 5,
    salt: str = CALIBRATION_SALT,
) -> OutOfFold:
    """For each of ``k`` folds (:func:`fold_ids` with ``salt``), ``choose`` a policy on the other folds
    and apply it to this one. An empty fold is refused (:func:`require_folds`); ``choose`` may raise
    :class:`~drnet_edge.errors.ConfigError` (nothing qualifies): it propagates."""
    res = preds.resolutions
    cost = np.array([macs[r] for r in res], dtype=np.float64)
    right = preds.correct() if preds.labelled else preds.agree()
    ids = fold_ids(preds, k, salt)
    require_folds(ids, k)
    final = np.zeros(preds.n, dtype=np.int64)
    ran = np.zeros((preds.n, len(res)), dtype=bool)
    spent = np.zeros(preds.n)
    names = []
    for f in range(k):
        held = ids == f
        name = choose(preds.subset(~held))
        names.append(name)
        d = expand_policies([name], res, with_controls=False)[0].decide(preds.subset(held))
        final[held], ran[held] = d.final, d.ran
        spent[held] = d.ran @ cost + (predictor_macs if d.uses_predictor else 0)
    return OutOfFold(right[np.arange(preds.n), final], spent, final, ran, names)
