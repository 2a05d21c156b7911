"""Calibration candidates: every policy ``calibrate`` may choose, replayed on per-image outcomes, and
the objective's pick among them (with the Clopper-Pearson bound on the drop).

A candidate is each cascade chain of two or three of the model's resolutions (smallest first, not
necessarily ending at the largest) over a grid of thresholds on the max softmax or on the top-1
minus top-2 margin, the predictor with and without escalation, and each fixed resolution. The
objective: ``max_drop`` (points; the cheapest candidate whose drop against the largest resolution is
at most that, on the estimate or, with ``require_bound``, on its Bonferroni-corrected 95% bound) or
``target_ratio`` (the most accurate within that share of the largest's MACs).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np
from scipy.stats import beta

from ..errors import ConfigError
from .registry import Chain, Decision, Predictions, cascade_decision, expand_policies

CONFIDENCE = 0.95
GRID = 24  # thresholds per stage (quantiles of the calibration values)


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
    def family(self) -> str:
        """``fixed``, ``cascade``, ``cascade-margin``, ``drnet`` or ``drnet-escalate`` (the spec's
        kind, and a cascade's signal when it is not the max softmax)."""
        kind = str(self.spec.get("kind", "fixed"))
        signal = self.spec.get("signal", "max_softmax")
        return kind if signal == "max_softmax" else f"{kind}-{signal}"

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


def replay_candidates(
    preds: Predictions, macs: dict[int, int], predictor_macs: int = 0, families: set[str] | None = None
) -> list[Candidate]:
    """Every candidate policy on ``preds`` (labelled: against labels; else against the largest's top-1);
    with ``families``, only those families' candidates (fixed ones are always there: the reference)."""
    want = lambda fam: families is None or fam in families  # noqa: E731
    res = preds.resolutions
    right = preds.correct() if preds.labelled else preds.agree()
    cost = np.array([macs[r] for r in res], dtype=np.float64)
    ref = right[:, 0]

    def cand(name: str, d: Decision, spec: dict[str, Any]) -> Candidate:
        ok = right[np.arange(preds.n), d.final]
        m = float((d.ran @ cost).mean() + (predictor_macs if d.uses_predictor else 0))
        return Candidate(name, float(ok.mean()), m, int((ref & ~ok).sum()), int((~ref & ok).sum()), preds.n, spec)

    out: list[Candidate] = []
    names = ["fixed"] + (["drnet"] if preds.predictor_choice is not None and want("drnet") else [])
    for pol in expand_policies(names, res, with_controls=False):
        out.append(cand(pol.name, pol.decide(preds), pol.spec or {}))
    signals = {"cascade": ("max_softmax", preds.confidence), "cascade-margin": ("margin", preds.margin)}
    for fam, (signal, values) in signals.items():
        if values is None or not want(fam):
            continue
        for chain_res in candidate_chains(res):
            idx = [res.index(r) for r in chain_res]
            grids = [_grid(values[:, k], GRID if len(idx) == 2 else GRID // 2) for k in idx[:-1]]
            for ts in np.array(np.meshgrid(*grids)).reshape(len(grids), -1).T:
                chain = Chain(chain_res, tuple(float(t) for t in ts), signal)
                out.append(cand(chain.name, cascade_decision(values, chain, res), chain.to_json()))
    if preds.predictor_choice is not None and want("drnet-escalate"):
        rows = np.arange(preds.n)
        for t in _grid(preds.confidence[rows, preds.predictor_choice], GRID):
            esc = expand_policies([f"drnet-escalate:{t:g}"], res, with_controls=False)[0]
            out.append(cand(esc.name, esc.decide(preds), esc.spec or {}))
    return out


def reference(cands: list[Candidate]) -> Candidate:
    """The fixed candidate with the most MACs (the largest resolution): what drops and ratios refer to."""
    return max((c for c in cands if c.spec.get("kind") == "fixed"), key=lambda c: c.macs)


class NoCandidate(ConfigError):
    """No candidate meets the objective: ``reason`` says why in a clause (per family, in a list), the
    message adds what to do."""

    def __init__(self, reason: str, advice: str) -> None:
        super().__init__(f"{reason}; {advice}. Nothing was written")
        self.reason = reason


def pick(
    cands: list[Candidate],
    *,
    max_drop: float | None,
    target_ratio: float | None,
    require_bound: bool,
    family: str | None = None,
) -> Candidate:
    """The candidate the objective chooses (see the module docstring), among ``family``'s when given;
    ConfigError when none qualifies."""
    if (max_drop is None) == (target_ratio is None):
        raise ConfigError("give exactly one of --max-drop POINTS or --target-ratio R")
    largest = reference(cands)
    tried = len(cands)
    if family is not None:
        cands = [c for c in cands if c.family == family]
    if target_ratio is not None:
        if not 0 < target_ratio <= 1:
            raise ConfigError(f"--target-ratio must be in (0, 1], got {target_ratio}")
        ok = [c for c in cands if c.macs <= target_ratio * largest.macs + 1e-6]
        if not ok:
            raise NoCandidate(
                f"no policy runs within {target_ratio:g}x the MACs of {largest.name}", "raise --target-ratio"
            )
        return max(ok, key=lambda c: (c.top1, -c.macs))
    assert max_drop is not None
    if max_drop < 0:
        raise ConfigError(f"--max-drop must be >= 0 points, got {max_drop}")

    def drop(c: Candidate) -> float:
        return c.loss_ucb_pts(tried) if require_bound else c.drop_pts

    ok = [c for c in cands if drop(c) <= max_drop + 1e-9]
    if not ok:
        if not cands:
            raise NoCandidate(f"no {family} policy to choose from", "choose another family")
        best = min(cands, key=drop)
        what = "95% bound on the drop" if require_bound else "drop"
        raise NoCandidate(
            f"no policy keeps the {what} within {max_drop:g} points on these photos (best: {best.name}, "
            f"{drop(best):.2f})",
            "raise --max-drop or use more calibration photos",
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
