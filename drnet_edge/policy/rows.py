"""Policy result rows: one schema for ``eval``, the local bench and the Android figures.

A row describes a policy that may run more than one pass per image (a cascade escalates): the share
of images answered at each resolution (``resolution_share``), the share that ran each resolution
(``pass_share``), how many escalated, and the mean MACs of every pass (plus the predictor's).

A dynamic policy is judged against the **fixed frontier** at its MACs (the upper concave hull of the
fixed-resolution points: what sending photos at random to two fixed resolutions reaches) and
against its random control on the same photos, each with a paired standard error: see
:func:`compare_to_fixed_line`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .registry import Decision, Policy, Predictions


@dataclass
class PolicyRow:
    """How one policy did. ``to_json`` gives the documented JSON fields."""

    top1: float | None
    macs_m: float
    resolution_share: dict[str, float]  # share of images answered at each resolution
    pass_share: dict[str, float] = field(default_factory=dict)  # share of images that ran each resolution
    escalation_rate: float = 0.0  # share of images that ran more than one resolution
    mean_passes: float = 1.0
    upper_bound: bool = False
    description: str = ""
    control_of: str | None = None
    dynamic: bool = False
    uses_predictor: bool = False
    extra: dict[str, Any] = field(default_factory=dict)  # measured figures (latency, energy, comparisons)
    correct: np.ndarray | None = field(default=None, repr=False)  # (N,) per image, for paired statistics

    def to_json(self) -> dict[str, Any]:
        out = {
            "top1": self.top1,
            "macs_m": self.macs_m,
            "resolution_share": self.resolution_share,
            "pass_share": self.pass_share or self.resolution_share,
            "escalation_rate": self.escalation_rate,
            "mean_passes": self.mean_passes,
            "upper_bound": self.upper_bound,
            "description": self.description,
        }
        if self.control_of:
            out["control_of"] = self.control_of
        if self.dynamic:
            out["dynamic"] = True
        if self.uses_predictor:
            out["uses_predictor"] = True
        out.update(self.extra)
        return out


# Backwards-compatible name (0.1 API)
PolicyResult = PolicyRow


def row_from_decision(
    d: Decision,
    resolutions: list[int],
    macs: dict[int, int],
    *,
    correct: np.ndarray | None,
    predictor_macs: int = 0,
    **meta: Any,
) -> PolicyRow:
    """A row from per-image decisions; ``correct`` is (N, K) correctness per resolution, or None."""
    n = len(d.final)
    cost = np.array([macs[r] for r in resolutions], dtype=np.float64)
    per_image = d.ran.astype(np.float64) @ cost + (predictor_macs if d.uses_predictor else 0)
    right = correct[np.arange(n), d.final] if correct is not None else None
    passes = d.ran.sum(axis=1)
    return PolicyRow(
        top1=float(right.mean()) if right is not None and n else None,
        macs_m=float(per_image.mean() / 1e6) if n else 0.0,
        resolution_share={str(r): float((d.final == k).mean()) if n else 0.0 for k, r in enumerate(resolutions)},
        pass_share={str(r): float(d.ran[:, k].mean()) if n else 0.0 for k, r in enumerate(resolutions)},
        escalation_rate=float((passes > 1).mean()) if n else 0.0,
        mean_passes=float(passes.mean()) if n else 0.0,
        uses_predictor=d.uses_predictor,
        correct=right,
        **meta,
    )


def score(policy: Policy, preds: Predictions, macs: dict[int, int], extra_macs: int = 0) -> PolicyRow:
    """Apply ``policy`` and measure top-1, mean MACs (every pass, plus ``extra_macs`` per image when the
    policy runs the predictor) and the resolution mix."""
    d = policy.decide(preds)
    if extra_macs and not d.uses_predictor:
        d.uses_predictor = True  # explicit per-image overhead (0.1 API: extra_macs always applied)
    return row_from_decision(
        d,
        preds.resolutions,
        macs,
        correct=preds.correct() if preds.labelled else None,
        predictor_macs=extra_macs,
        upper_bound=policy.upper_bound,
        description=policy.description,
        control_of=policy.control_of,
        dynamic=policy.dynamic,
    )


def paired(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    """Mean of ``a - b`` per image (in points) and its paired standard error."""
    d = a.astype(np.float64) - b.astype(np.float64)
    se = float(d.std(ddof=1) / np.sqrt(len(d))) if len(d) > 1 else float("nan")
    return {"delta_pts": 100 * float(d.mean()), "se_pts": 100 * se}


def paired_text(d: dict[str, float] | None, empty: str = "") -> str:
    """One :func:`paired` result as every table writes it: ``+1.2 (0.4)``, points and their SE."""
    return empty if not d else f"{d['delta_pts']:+.1f} ({d['se_pts']:.1f})"


def upper_hull(points: list[tuple[float, float]]) -> list[int]:
    """Indices of the upper concave hull of ``(x, y)`` points, by increasing x (ties: the higher y)."""
    order = sorted(range(len(points)), key=lambda i: (points[i][0], -points[i][1]))
    hull: list[int] = []
    for i in order:
        if hull and points[hull[-1]][0] == points[i][0]:
            continue  # same x, lower y
        while len(hull) >= 2:
            (x0, y0), (x1, y1), (x2, y2) = points[hull[-2]], points[hull[-1]], points[i]
            if (x1 - x0) * (y2 - y0) - (y1 - y0) * (x2 - x0) >= 0:  # hull[-1] on or below the chord
                hull.pop()
            else:
                break
        hull.append(i)
    return hull


def fixed_frontier_at(rows: dict[str, PolicyRow], macs_m: float) -> tuple[np.ndarray, float, str] | None:
    """The **fixed frontier** at ``macs_m``: the upper concave hull of the fixed-resolution (MACs,
    top-1) points, any point of which is reached by sending photos at random to its two neighbouring
    vertices. Returns its per-image expected correctness there (the two vertices' correctness mixed
    by that share), its top-1, and which vertices it joins; None outside the fixed points' range."""
    pts = [
        (r.macs_m, name, np.asarray(r.correct, dtype=np.float64))
        for name, r in rows.items()
        if name.startswith("fixed-") and r.correct is not None
    ]
    if not pts:
        return None
    hull = [pts[i] for i in upper_hull([(m, float(c.mean())) for m, _, c in pts])]
    if len(hull) == 1 and hull[0][0] == macs_m:
        return hull[0][2], float(hull[0][2].mean()), hull[0][1]
    for (x0, n0, c0), (x1, n1, c1) in zip(hull, hull[1:], strict=False):
        if x0 <= macs_m <= x1:
            w = 0.0 if x1 == x0 else (macs_m - x0) / (x1 - x0)
            line = (1 - w) * c0 + w * c1
            return line, float(line.mean()), f"{n0}..{n1}"
    return None


fixed_line_at = fixed_frontier_at  # 0.2 name: it joined neighbouring fixed points; now the frontier


def compare_to_fixed_line(rows: dict[str, PolicyRow]) -> None:
    """Add, to every dynamic row and control, ``vs_fixed_frontier`` (its top-1 minus the fixed
    frontier's at the same MACs, with the paired SE: :func:`fixed_frontier_at`) and, to a dynamic row
    with a control, ``vs_control``; also ``vs_largest`` against the largest fixed resolution. In place."""
    fixed = {k: v for k, v in rows.items() if k.startswith("fixed-") and v.correct is not None}
    largest = max(fixed.items(), key=lambda kv: kv[1].macs_m, default=None)
    for name, row in rows.items():
        if row.correct is None or not (row.dynamic or row.control_of):
            continue
        line = fixed_frontier_at(rows, row.macs_m)
        if line is not None:
            row.extra["vs_fixed_frontier"] = {
                "frontier_top1": line[1],
                "between": line[2],
                **paired(row.correct, line[0]),
            }
        if largest is not None:
            row.extra["vs_largest"] = {"policy": largest[0], **paired(row.correct, largest[1].correct)}  # type: ignore[arg-type]
        twin = next((r for r in rows.values() if r.control_of == name and r.correct is not None), None)
        if twin is not None:
            row.extra["vs_control"] = paired(row.correct, twin.correct)  # type: ignore[arg-type]
