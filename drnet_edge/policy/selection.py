"""Choosing a policy on calibration photos' outcomes: the pick behind ``drnet-edge calibrate``.

The candidates (:mod:`drnet_edge.policy.candidates`: cascades on the max softmax or the top-2 margin, the
predictor with and without escalation, each fixed resolution) are replayed on the photos'
per-resolution outcomes. The objective is ``max_drop`` (points against the largest resolution, on the
estimate or its Bonferroni-corrected Clopper-Pearson bound) or ``target_ratio`` (share of its MACs).

The pick is in two steps, so that a family with many thresholds does not win by fitting noise: each
policy **family** (``fixed``, ``cascade``, ``cascade-margin``, ``drnet``, ``drnet-escalate``) is first
estimated out of fold (K folds inside the calibration photos: the family's best policy on K-1 folds,
scored on the K-th, pooled; :mod:`drnet_edge.policy.crossfit`), the objective picks the family on those
estimates, and the family's best policy on all the photos is the one written. The record reports
that family's out-of-fold top-1 and MACs with their standard errors: what to expect on new photos.

Pure logic on arrays: no model runs here, and nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError
from .candidates import Candidate, NoCandidate, photos_needed, pick, reference, replay_candidates
from .registry import Predictions

FOLDS = 5  # folds for the out-of-fold family estimates
MACS_SLACK = 0.02  # a family's out-of-fold MACs ratio may exceed --target-ratio by this (fold noise)


@dataclass
class Selection:
    """What the two-step pick chose: the policy (its family's best on every photo), the family, each
    family's out-of-fold estimate, and every candidate replayed on all the photos."""

    chosen: Candidate
    family: str
    families: dict[str, dict[str, Any]]
    cands: list[Candidate]
    folds: int


def family_estimates(
    preds: Predictions, macs: dict[int, int], predictor_macs: int, objective: dict[str, Any], folds: int
) -> dict[str, dict[str, Any]]:
    """Each family's out-of-fold top-1, MACs ratio and drop against the largest resolution (with
    standard errors), or the reason it can not meet the objective on some fold."""
    from .crossfit import out_of_fold
    from .rows import paired

    cands = replay_candidates(preds, macs, predictor_macs)
    largest = reference(cands)
    right = preds.correct() if preds.labelled else preds.agree()
    ref_right = right[:, largest.spec["resolution_index"]]
    out: dict[str, dict[str, Any]] = {}
    for fam in sorted({c.family for c in cands}):

        def choose(train: Predictions, fam: str = fam) -> str:
            return pick(replay_candidates(train, macs, predictor_macs, {fam}), family=fam, **objective).name

        try:
            oof = out_of_fold(preds, choose, macs, predictor_macs, folds)
        except NoCandidate as exc:
            out[fam] = {"error": exc.reason}  # the advice is said once, for all families (pick_family)
            continue
        except ConfigError as exc:
            out[fam] = {"error": str(exc)}
            continue
        drop = paired(ref_right, oof.correct)
        out[fam] = {**oof.estimate(largest.macs), "drop_pts": drop["delta_pts"], "drop_se_pts": drop["se_pts"],
                    "fold_policies": oof.policies}  # fmt: skip
    return out


def pick_family(families: dict[str, dict[str, Any]], objective: dict[str, Any]) -> str:
    """The family the objective picks on out-of-fold estimates: the most accurate within
    ``target_ratio`` (+ ``MACS_SLACK``), or the cheapest whose drop is within ``max_drop``."""
    ok = {f: e for f, e in families.items() if "error" not in e}
    if objective["target_ratio"] is not None:
        within = {f: e for f, e in ok.items() if e["macs_ratio"] <= objective["target_ratio"] + MACS_SLACK}
        if within:
            return max(within, key=lambda f: (within[f]["top1"], -within[f]["macs_ratio"]))
    else:
        within = {f: e for f, e in ok.items() if e["drop_pts"] <= objective["max_drop"] + 1e-9}
        if within:
            return min(within, key=lambda f: (within[f]["macs_ratio"], -within[f]["top1"]))
    seen = "; ".join(
        f"{f}: {e['error']}" if "error" in e else f"{f}: {100 * e['top1']:.1f}% at {e['macs_ratio']:.2f}x"
        for f, e in families.items()
    )
    advice = "raise --target-ratio" if objective["target_ratio"] is not None else "raise --max-drop"
    raise ConfigError(
        f"no policy family meets the objective on photos it was not chosen on ({seen}): {advice} or use more "
        "calibration photos. Nothing was written"
    )


def select_policy(
    preds: Predictions,
    macs: dict[int, int],
    predictor_macs: int = 0,
    *,
    max_drop: float | None = None,
    target_ratio: float | None = None,
    require_bound: bool = False,
    folds: int = FOLDS,
) -> Selection:
    """The two-step pick (module docstring): family out of fold, then its best policy on every photo."""
    from .crossfit import fold_ids, require_folds

    if folds < 2:
        raise ConfigError(f"--folds must be at least 2, got {folds}")
    require_folds(fold_ids(preds, folds), folds)  # an empty fold: said once, not as every family's error
    objective: dict[str, Any] = {"max_drop": max_drop, "target_ratio": target_ratio, "require_bound": require_bound}
    cands = replay_candidates(preds, macs, predictor_macs)
    pick(cands, **objective)  # the objective's own errors first, on every candidate
    families = family_estimates(preds, macs, predictor_macs, objective, folds)
    family = pick_family(families, objective)
    return Selection(pick(cands, family=family, **objective), family, families, cands, folds)


def calibration_record(sel: Selection, preds: Predictions, *, objective: dict[str, Any], data: str,
                       source: dict[str, Any]) -> dict[str, Any]:  # fmt: skip
    """What goes into the checkpoint or the manifest: the policy and how it was chosen (``source``:
    what produced the outcomes, a checkpoint in PyTorch or converted files in their runtime)."""
    chosen, cands = sel.chosen, sel.cands
    largest = reference(cands)
    rate = chosen.losses / chosen.n
    max_drop = objective.get("max_drop")
    return {
        "name": chosen.name,
        "spec": chosen.spec,
        "calibration": {
            "data": data,
            "n": preds.n,
            "source": source,
            "label_mode": "labels" if preds.labelled else "agreement with the largest resolution (no labels)",
            "objective": {
                "max_drop_pts": max_drop,
                "target_ratio": objective.get("target_ratio"),
                "require_bound": objective.get("require_bound", False),
            },  # fmt: skip
            "family": sel.family,
            "expected": {k: sel.families[sel.family][k] for k in ("top1", "top1_se", "macs_ratio", "macs_ratio_se")},
            "expected_note": f"the chosen family's out-of-fold estimate ({sel.folds} folds of the calibration "
            "photos: chosen on the others, scored on each, pooled): what to expect on new photos like these",
            "families": sel.families,
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


def objective_of(max_drop: float | None, target_ratio: float | None, require_bound: bool) -> dict[str, Any]:
    """The objective as given (``--max-drop 0.5`` when neither is)."""
    if max_drop is None and target_ratio is None:
        max_drop = 0.5
    if (max_drop is None) == (target_ratio is None):
        raise ConfigError("give exactly one of --max-drop POINTS or --target-ratio R")
    if max_drop is not None and not 0 <= max_drop <= 100:
        raise ConfigError(f"--max-drop is in points of top-1, from 0 to 100 (e.g. 0.5), got {max_drop:g}")
    if target_ratio is not None and not 0 < target_ratio <= 1:
        raise ConfigError(
            f"--target-ratio is a share of the largest resolution's MACs, in (0, 1] (e.g. 0.6), got {target_ratio:g}"
        )
    return {"max_drop": max_drop, "target_ratio": target_ratio, "require_bound": require_bound}
