"""Research probe (#32): a cascade that answers an escalated photo with both passes (the mean of their
softmax probabilities) instead of the last pass alone. Could it lift a cascade above its 224 px pass?

Settings fixed before the run: the int8 folders of ``release/convert_shipped.sh`` (``lite0-imagewoof`` and
the hybrid, ``--pass-from 224=lite0-imagewoof-base``); the 2,553 photos of ``release/shipped_policies.py``
and its salted 5 folds; two-stage margin cascades from 128, 160 or 192 px to 224 px, thresholds at the
101 quantiles of the first pass's margin; per fold, the most accurate candidate within the MACs budget
(0.60 and 0.66 of 224 px) on the other four folds, scored on the fold, pooled; equal weights for the two
passes. The same pick for the plain cascade (the last pass answers) and the ensemble, so the two are
compared like for like (not ``calibrate``'s two-step pick: RESULTS 6c has that).

    .venv/bin/python benchmarks/probes/ensemble_cascade_probe.py   # ~4 min; benchmarks/results/ensemble_cascade_probe.{json,md}
"""

from __future__ import annotations

import platform
import sys
from pathlib import Path

import numpy as np

from drnet_edge._io import atomic_write_json, atomic_write_text
from drnet_edge.data.folders import MultiResolutionDataset, collate_multires, scan_folder
from drnet_edge.data.preprocess import to_array
from drnet_edge.policy.crossfit import CROSSFIT_SALT, path_folds
from drnet_edge.policy.spec import softmax
from drnet_edge.runtime.interface import macs_by_resolution
from drnet_edge.runtime.source import ModelSource, open_model

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "release"))
from shipped_policies import SHARED, WOOF  # noqa: E402  (the shipped photos)

ROOT = Path(__file__).resolve().parents[2]
ARTS = ROOT / "runs" / "convert"
OUT = ROOT / "benchmarks" / "results" / "ensemble_cascade_probe"
FOLDERS = {"lite0-imagewoof": "lite0-imagewoof-onnx2tf-int8", "hybrid": "lite0-imagewoof-hybrid-onnx2tf-int8"}
BUDGETS = (0.60, 0.66)


def probabilities(folder: Path) -> tuple[np.ndarray, np.ndarray, list[str], dict[int, float], list[int]]:
    """Softmax (N, K, C) at every resolution, labels, paths, MACs vs the largest, resolutions."""
    net, classes = open_model(ModelSource(artifacts=folder, runtime="tflite"), threads=2)
    probs, labels, paths = [], [], []
    for name, subset in WOOF:
        f = scan_folder(SHARED / name, classes=classes, subset=subset)
        ds = MultiResolutionDataset(f, net.resolutions, net.preprocess)
        for s in range(0, len(ds), 32):
            b = collate_multires([ds[i] for i in range(s, min(s + 32, len(ds)))])
            x = [to_array(b["crops"][r], net.preprocess) for r in net.resolutions]
            probs.append(np.stack([softmax(net.backbone_at(xk, k)) for k, xk in enumerate(x)], axis=1))
            labels.append(np.asarray(f.labels)[b["index"]])
            paths += [str(f.paths[i]) for i in b["index"]]
    macs = macs_by_resolution(net)
    return (
        np.concatenate(probs),
        np.concatenate(labels),
        paths,
        {r: m / max(macs.values()) for r, m in macs.items()},
        list(net.resolutions),
    )


def candidates(p: np.ndarray, y: np.ndarray, res: list[int], macs: dict[int, float]) -> list[tuple]:
    """(answer, first pass, threshold, correct per photo, MACs per photo) of every two-stage margin cascade."""
    out = []
    top = p[:, res.index(max(res))]
    for r in res[1:]:
        first = p[:, res.index(r)]
        s = np.sort(first, axis=1)
        margin = s[:, -1] - s[:, -2]
        ens = (first + top) / 2
        for t in np.unique(np.quantile(margin, np.linspace(0, 1, 101))):
            esc = margin < t
            cost = macs[r] + esc * macs[max(res)]
            for answer, last in (("last pass", top), ("ensemble", ens)):
                out.append((answer, r, float(t), np.where(esc, last.argmax(1), first.argmax(1)) == y, cost))
    return out


def crossfit(cands: list[tuple], answer: str, budget: float, folds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    right, cost = np.zeros(len(folds), bool), np.zeros(len(folds))
    for f in range(5):
        fit, held = folds != f, folds == f
        best = max((c for c in cands if c[0] == answer and c[4][fit].mean() <= budget), key=lambda c: c[3][fit].mean())
        right[held], cost[held] = best[3][held], best[4][held]
    return right, cost


def main() -> None:
    rows = []
    for label, folder in FOLDERS.items():
        p, y, paths, macs, res = probabilities(ARTS / folder)
        folds = path_folds(paths, 5, CROSSFIT_SALT)
        c224 = p[:, 0].argmax(1) == y
        cands = candidates(p, y, res, macs)
        for budget in BUDGETS:
            for answer in ("last pass", "ensemble"):
                right, cost = crossfit(cands, answer, budget, folds)
                d = right.astype(float) - c224
                rows.append({"folder": label, "budget": budget, "answer": answer, "n": len(y), "top1": float(right.mean()),
                             "macs_ratio": float(cost.mean()), "vs_224_pts": 100 * float(d.mean()),
                             "vs_224_se": 100 * float(d.std(ddof=1) / np.sqrt(len(d))), "fixed_224": float(c224.mean())})  # fmt: skip
    atomic_write_json(OUT.with_suffix(".json"), {"hardware": {"machine": platform.machine(), "cores": 2},
                                                 "photos": [f"{n} {s or ''}".strip() for n, s in WOOF], "rows": rows})  # fmt: skip
    lines = [
        f"Ensemble cascades (escalated photos answered by the mean of both passes' softmax), TFLite int8, n = {rows[0]['n']}; "
        "margin cascades from 128/160/192 to 224 px, picked within each budget on 4 of 5 folds and scored on the fifth",
        "",
        "| folder | budget | answer | top-1, out of fold | vs its 224 (SE) |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r['folder']} | {r['budget']:.2f} | {r['answer']} | {100 * r['top1']:.1f}% at {r['macs_ratio']:.2f}x "
                     f"| {r['vs_224_pts']:+.1f} ({r['vs_224_se']:.1f}) |")  # fmt: skip
    atomic_write_text(OUT.with_suffix(".md"), "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
