"""``drnet-edge calibrate``: choose a model's default policy on calibration photos.

Every candidate (each cascade chain of two or three of the model's resolutions, smallest first, not
necessarily ending at the largest, over a grid of thresholds; the predictor with and without
escalation; each fixed resolution) is replayed on the calibration photos' per-resolution outcomes,
then one is picked:

* ``max_drop`` (points): the cheapest candidate whose top-1 drop against the largest resolution is at
  most ``max_drop`` - on the point estimate by default, or on its 95% upper confidence bound with
  ``require_bound`` (a Clopper-Pearson bound on the share of photos the policy loses against the
  largest resolution, Bonferroni-corrected over every candidate tried, so it holds for the one chosen);
* ``target_ratio``: the most accurate candidate with mean MACs at most that share of the largest's.

Unlabelled photos are calibrated label-free: "correct" then means "agrees with the largest
resolution's top-1" (stated in the result). Thresholds are never fitted on evaluation photos: pass
disjoint folds (``--subset``) to ``calibrate`` and ``eval``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np
from scipy.stats import beta

from .errors import ConfigError
from .policies import Chain, Decision, Policy, Predictions, cascade_decision, expand_policies

CONFIDENCE = 0.95
GRID = 24  # thresholds per stage (quantiles of the calibration confidences)


@dataclass
class Candidate:
    """One policy replayed on the calibration photos."""

    name: str
    top1: float
    macs: float  # mean per image (every pass, plus the predictor when it runs)
    losses: int  # photos right at the largest resolution and wrong under the policy
    gains: int  # photos wrong at the largest resolution and right under the policy
    n: int
    spec: dict[str, Any] = field(default_factory=dict)

    @property
    def drop_pts(self) -> float:
        return 100 * (self.losses - self.gains) / self.n

    def loss_ucb_pts(self, candidates: int = 1) -> float:
        """Upper confidence bound (95%, Bonferroni over ``candidates``) on the drop: the drop can not
        exceed the loss rate, bounded here by Clopper-Pearson."""
        return 100 * clopper_pearson_upper(self.losses, self.n, (1 - CONFIDENCE) / max(candidates, 1))


def clopper_pearson_upper(k: int, n: int, alpha: float) -> float:
    """One-sided upper ``1 - alpha`` bound on a binomial rate with ``k`` successes in ``n``."""
    return 1.0 if k >= n else float(beta.ppf(1 - alpha, k + 1, n - k))


def photos_needed(rate: float, bound_pts: float, candidates: int = 1) -> int | None:
    """Calibration photos needed for the Clopper-Pearson bound to fall to ``bound_pts`` at loss rate
    ``rate`` (None when the rate itself is at or above the bound)."""
    d = bound_pts / 100
    if rate >= d:
        return None
    alpha = (1 - CONFIDENCE) / max(candidates, 1)
    n = 16
    while clopper_pearson_upper(int(round(rate * n)), n, alpha) > d:
        n = int(n * 1.25) + 1
        if n > 10_000_000:
            return None
    return n


def candidate_chains(resolutions: list[int], max_stages: int = 3) -> list[tuple[int, ...]]:
    """Every chain of 2..``max_stages`` resolutions, smallest first. A chain may end below the largest:
    a multi-resolution backbone is often as accurate one step down (lite0-imagewoof: 192 px within
    0.2 points of 224 at 0.73x the MACs), and escalating there costs less."""
    ordered = sorted(resolutions)
    return [c for s in range(2, max_stages + 1) for c in combinations(ordered, s)]


def _grid(conf: np.ndarray, n: int) -> np.ndarray:
    qs = np.quantile(conf, np.linspace(0.02, 0.98, n))
    return np.unique(np.clip(np.round(qs, 3), 0.001, 1.0))


def replay_candidates(preds: Predictions, macs: dict[int, int], predictor_macs: int = 0) -> list[Candidate]:
    """Every candidate policy on ``preds`` (labelled: against labels; else against the largest's top-1)."""
    res = preds.resolutions
    right = preds.correct() if preds.labelled else preds.agree()
    cost = np.array([macs[r] for r in res], dtype=np.float64)
    ref = right[:, 0]

    def cand(name: str, d: Decision, spec: dict[str, Any]) -> Candidate:
        ok = right[np.arange(preds.n), d.final]
        m = float((d.ran @ cost).mean() + (predictor_macs if d.uses_predictor else 0))
        return Candidate(name, float(ok.mean()), m, int((ref & ~ok).sum()), int((~ref & ok).sum()), preds.n, spec)

    out: list[Candidate] = []
    names = ["fixed"] + (["drnet"] if preds.predictor_choice is not None else [])
    for pol in expand_policies(names, res, with_controls=False):
        out.append(cand(pol.name, pol.decide(preds), pol.spec or {}))
    for chain_res in candidate_chains(res):
        idx = [res.index(r) for r in chain_res]
        grids = [_grid(preds.confidence[:, k], GRID if len(idx) == 2 else GRID // 2) for k in idx[:-1]]
        for ts in np.array(np.meshgrid(*grids)).reshape(len(grids), -1).T:
            chain = Chain(chain_res, tuple(float(t) for t in ts))
            out.append(cand(chain.name, cascade_decision(preds.confidence, chain, res), chain.to_json()))
    if preds.predictor_choice is not None:
        rows = np.arange(preds.n)
        for t in _grid(preds.confidence[rows, preds.predictor_choice], GRID):
            pol: Policy = expand_policies([f"drnet-escalate:{t:g}"], res, with_controls=False)[0]
            out.append(cand(pol.name, pol.decide(preds), pol.spec or {}))
    return out


def reference(cands: list[Candidate]) -> Candidate:
    """The fixed candidate with the most MACs (the largest resolution): what drops and ratios refer to."""
    return max((c for c in cands if c.spec.get("kind") == "fixed"), key=lambda c: c.macs)


def pick(
    cands: list[Candidate], *, max_drop: float | None, target_ratio: float | None, require_bound: bool
) -> Candidate:
    """The candidate the objective chooses (see the module docstring); ConfigError when none qualifies."""
    if (max_drop is None) == (target_ratio is None):
        raise ConfigError("give exactly one of --max-drop POINTS or --target-ratio R")
    largest = reference(cands)
    if target_ratio is not None:
        if not 0 < target_ratio <= 1:
            raise ConfigError(f"--target-ratio must be in (0, 1], got {target_ratio}")
        ok = [c for c in cands if c.macs <= target_ratio * largest.macs + 1e-6]
        if not ok:
            raise ConfigError(
                f"no policy runs within {target_ratio:g}x the MACs of {largest.name}; raise --target-ratio"
            )
        return max(ok, key=lambda c: (c.top1, -c.macs))
    assert max_drop is not None
    if max_drop < 0:
        raise ConfigError(f"--max-drop must be >= 0 points, got {max_drop}")

    def drop(c: Candidate) -> float:
        return c.loss_ucb_pts(len(cands)) if require_bound else c.drop_pts

    ok = [c for c in cands if drop(c) <= max_drop + 1e-9]
    if not ok:
        best = min(cands, key=drop)
        what = "95% bound on the drop" if require_bound else "drop"
        raise ConfigError(
            f"no policy keeps the {what} within {max_drop:g} points on these photos (best: {best.name}, "
            f"{drop(best):.2f}); raise --max-drop or use more calibration photos. Nothing was written"
        )
    return min(ok, key=lambda c: (c.macs, -c.top1))


def pareto(cands: list[Candidate]) -> list[Candidate]:
    """Candidates no other beats on both top-1 and MACs, cheapest first."""
    front, best = [], -1.0
    for c in sorted(cands, key=lambda c: (c.macs, -c.top1)):
        if c.top1 > best:
            front.append(c)
            best = c.top1
    return front


def calibration_record(
    chosen: Candidate,
    cands: list[Candidate],
    preds: Predictions,
    *,
    max_drop: float | None,
    target_ratio: float | None,
    require_bound: bool,
    data: str,
) -> dict[str, Any]:
    """What goes into the checkpoint (and the manifest): the policy and how it was chosen."""
    largest = reference(cands)
    rate = chosen.losses / chosen.n
    return {
        "name": chosen.name,
        "spec": chosen.spec,
        "calibration": {
            "data": data,
            "n": preds.n,
            "label_mode": "labels" if preds.labelled else "agreement with the largest resolution (no labels)",
            "objective": {"max_drop_pts": max_drop, "target_ratio": target_ratio, "require_bound": require_bound},
            "candidates": len(cands),
            "top1": chosen.top1,
            "top1_largest": largest.top1,
            "macs_ratio": chosen.macs / largest.macs,
            "macs_m": chosen.macs / 1e6,
            "macs_m_largest": largest.macs / 1e6,
            "drop_pts": chosen.drop_pts,
            "losses": chosen.losses,
            "gains": chosen.gains,
            "drop_ucb95_pts": chosen.loss_ucb_pts(1),
            "drop_ucb95_pts_all_candidates": chosen.loss_ucb_pts(len(cands)),
            "bound_note": "Clopper-Pearson 95% upper bound on the share of photos lost against the largest "
            "resolution (an upper bound on the drop); the first is for this policy alone (optimistic after "
            "selection), the second is Bonferroni-corrected over every candidate tried",
            "photos_for_bound_at_max_drop": photos_needed(rate, max_drop, len(cands)) if max_drop else None,
        },
    }


@dataclass
class CalibrationResult:
    """What ``calibrate`` chose, the candidates' Pareto front, and where the checkpoint went."""

    record: dict[str, Any]
    front: list[Candidate]
    out: str | None


def calibrate(
    model: str,
    data: str,
    out: str | None,
    *,
    max_drop: float | None = None,
    target_ratio: float | None = None,
    require_bound: bool = False,
    subset: str | None = None,
    limit: int | None = None,
    classes: Any = None,
    skip_bad: bool = False,
    batch_size: int = 32,
    progress: bool = True,
) -> CalibrationResult:
    """Pick ``model``'s default policy on the photos in ``data`` and write a checkpoint carrying it to
    ``out`` (atomically; nothing is written when no policy qualifies). ``model`` is a checkpoint path
    or a bundled name (bundled files are never modified)."""
    from .checkpoint import load_model, read_checkpoint, resolve_model, save_checkpoint
    from .data import imagenet_classes, scan_folder
    from .evaluate import predict_folder
    from .runnable import macs_by_resolution

    if max_drop is None and target_ratio is None:
        max_drop = 0.5
    if (max_drop is None) == (target_ratio is None):
        raise ConfigError("give exactly one of --max-drop POINTS or --target-ratio R")
    net, own, _ = load_model(model)
    if len(net.resolutions) < 2:
        raise ConfigError(f"{model} has one resolution ({net.resolutions[0]}); there is no policy to calibrate")
    if classes is None and own.ids != imagenet_classes().ids:
        classes = own
    folder = scan_folder(data, classes=classes, limit=limit, subset=subset)
    preds, _ = predict_folder(
        net, folder, net.resolutions, net.preprocess, batch_size=batch_size, skip_bad=skip_bad, progress=progress
    )
    macs = macs_by_resolution(net)
    cands = replay_candidates(preds, macs, net.predictor_macs())
    chosen = pick(cands, max_drop=max_drop, target_ratio=target_ratio, require_bound=require_bound)
    where = f"{data}" + (f" (--subset {subset})" if subset else "")
    record = calibration_record(
        chosen, cands, preds, max_drop=max_drop, target_ratio=target_ratio, require_bound=require_bound, data=where
    )
    if out is not None:
        ckpt = read_checkpoint(resolve_model(model))
        ckpt["policy"] = record
        ckpt.setdefault("meta", {})["calibrated_from"] = str(model)
        save_checkpoint(out, ckpt)
    return CalibrationResult(record, pareto(cands), out)
