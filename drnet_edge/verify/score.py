"""Scoring one side's outputs against the other's: per model (top-1 each side, agreement, largest output
difference) and per policy (the answer each side's outputs lead the policy to). Pure numpy."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..policy.registry import Policy, Predictions, expand_policies
from ..runtime.manifest import Manifest, TargetEntry
from ..runtime.outputs import per_image_outputs

AGREEMENT_FLOOR = 0.99  # below this on real photos a model is investigated (issue #13)


def _top1(logits: np.ndarray, labels: np.ndarray | None) -> float | None:
    if labels is None or not len(labels) or (labels < 0).any():
        return None
    return float((logits.argmax(1) == labels).mean())


def compare_outputs(host: np.ndarray, arm: np.ndarray, labels: np.ndarray | None, paths: list[str]) -> dict[str, Any]:
    """One model on both sides: top-1 (when labelled), top-1 agreement, output differences."""
    if host.shape != arm.shape:
        return {"ok": False, "error": f"output shapes differ: host {list(host.shape)}, aarch64 {list(arm.shape)}"}
    diff = np.abs(host.astype(np.float64) - arm.astype(np.float64))
    same = host.argmax(1) == arm.argmax(1)
    worst = np.unravel_index(int(diff.argmax()), diff.shape) if diff.size else (0, 0)
    return {
        "ok": True,
        "n": int(len(host)),
        "top1_host": _top1(host, labels),
        "top1_arm": _top1(arm, labels),
        "agreement": float(same.mean()) if len(same) else None,
        "disagreements": int((~same).sum()),
        "max_abs_diff": float(diff.max()) if diff.size else 0.0,
        "mean_abs_diff": float(diff.mean()) if diff.size else 0.0,
        "bit_exact_share": float((diff.max(axis=1) == 0).mean()) if diff.size else None,
        "host_output_range": float(host.max() - host.min()) if host.size else 0.0,
        "worst": {"image": paths[int(worst[0])] if paths else int(worst[0]), "output": int(worst[1])},
        "disagreeing_images": [paths[i] if paths else i for i in np.flatnonzero(~same)[:20].tolist()],
        "below_floor": bool(len(same)) and float(same.mean()) < AGREEMENT_FLOOR,
    }


def predictions(entry: TargetEntry, outputs: dict[str, np.ndarray], manifest: Manifest, labels: np.ndarray | None):
    """A :class:`Predictions` from one side's outputs of every model of a target, as ``predict_folder``
    builds it (top-1, max softmax and margin per image per resolution; the predictor's argmax)."""
    cols = [per_image_outputs(outputs[m.name]) for m in entry.backbones()]
    n = len(cols[0][0])
    pred = entry.predictor
    return Predictions(
        resolutions=list(manifest.resolutions),
        labels=labels if labels is not None else np.full(n, -1, dtype=np.int64),
        top1=np.stack([c[0] for c in cols], axis=1).astype(np.int64),
        confidence=np.stack([c[1] for c in cols], axis=1).astype(np.float32),
        predictor_choice=outputs[pred.name].argmax(1) if pred is not None else None,
        margin=np.stack([c[2] for c in cols], axis=1).astype(np.float32),
    )


def policies_for(manifest: Manifest, entry: TargetEntry) -> list[Policy]:
    """Every fixed resolution, the default policy of these files (:meth:`Manifest.policy_for`), and the predictor's choice when there is one."""
    policy = manifest.policy_for(entry.name)
    names = ["fixed"] + (["default"] if policy else []) + (["drnet"] if entry.predictor else [])
    default = (policy or {}).get("name")
    return expand_policies(names, list(manifest.resolutions), default=default, with_controls=False)


def compare_policies(
    manifest: Manifest, entry: TargetEntry, host: dict[str, np.ndarray], arm: dict[str, np.ndarray], labels
) -> dict[str, dict[str, Any]]:
    """Per policy: each side's top-1, how often their answers agree, and how often they ran the same
    resolutions (a cascade can escalate on one side only)."""
    ph, pa = predictions(entry, host, manifest, labels), predictions(entry, arm, manifest, labels)
    idx = np.arange(ph.n)
    out = {}
    for pol in policies_for(manifest, entry):
        dh, da = pol.decide(ph), pol.decide(pa)
        ah, aa = ph.top1[idx, dh.final], pa.top1[idx, da.final]
        labelled = ph.labelled
        out[pol.name] = {
            "description": pol.description,
            "default": pol.name == (manifest.policy_for(entry.name) or {}).get("name"),
            "n": ph.n,
            "top1_host": float((ah == ph.labels).mean()) if labelled else None,
            "top1_arm": float((aa == pa.labels).mean()) if labelled else None,
            "agreement": float((ah == aa).mean()),
            "same_passes": float((dh.ran == da.ran).all(axis=1).mean()),
        }
    return out
