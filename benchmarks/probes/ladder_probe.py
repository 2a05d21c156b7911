"""Research probe: a "ladder" of installed ImageNet backbones as a dynamic-resolution policy.

Each photo runs EfficientNet-Lite0 at a low resolution first; when its max softmax is below the
stage's threshold it escalates to the next rung (Lite0 at 224, Lite1 at its native 240 px, Lite2 at
260 px; 3-rung ladders too), and the last rung run gives the answer. A photo's MACs are the sum of
the passes it ran. Compared, with paired standard errors, against fixed Lite0-224 and against the
*fixed frontier*: the upper concave hull of the (MACs, top-1) points of every single network and
resolution measured (any point on it is reached by sending photos at random to its two neighbouring
fixed settings; per-image correctness interpolated by weight w as in ``drnet_edge.policy.rows.fixed_line_at``).
The hull is drawn on all photos, so it is, if anything, flattered against the ladders.

Photos: the 500 shared ImageNet photos in ``../shared/data/imagenet-sample-dev`` (one per even class
index; public source: github.com/EliSchwartz/imagenet-sample-images), frozen PyTorch fp32 backbones.

Cross-fit: the photos split in 2 folds by path hash (``drnet_edge.data.folders.fold_of``, the test:0/2 and
test:1/2 of the other probes); each ladder's thresholds are picked on one fold (the most accurate,
then the cheapest, whose mean MACs <= B x Lite0-224's, B in 0.8/0.9/1.0/1.2), applied to the other
fold, swapped, and pooled, so every photo is scored once by thresholds that never saw it.

    .venv/bin/python benchmarks/probes/ladder_probe.py   # writes benchmarks/results/ladder_probe.json
    # per-network outcomes are cached in benchmarks/results/ladder_probe.outcomes.pkl (delete to rerun)

A research probe, not a product feature. What the numbers support (500 photos, x86-64, 2 folds): no
ladder beats fixed Lite0-224 or the fixed frontier by more than its paired SE at 0.8-1.2x Lite0-224's
MACs. The bigger networks barely help here (Lite1-240 -1.6 pts, Lite2-260 +0.8 pts at 2.2x the MACs,
SE ~1.2), so escalating into them buys little, and ladders that start at 128 or 160 px lose 2-13 pts
because few photos can escalate within budget and confident first-rung errors are never caught. The
best ladders (Lite0-192 > Lite0-224 or > Lite2-260) sit on the frontier (-0.3 to +1.0 pts, SE 0.4-1.1).
"""

from __future__ import annotations

import argparse
import itertools
import pickle
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

from drnet_edge._io import atomic_write, atomic_write_json
from drnet_edge.data.folders import fold_of, scan_folder
from drnet_edge.models.backbones import get_backbone_cfg
from drnet_edge.models.macs import backbone_macs
from drnet_edge.policy.rows import paired, upper_hull
from drnet_edge.runtime.outputs import predict_folder
from drnet_edge.runtime.source import ModelSource, open_model

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "imagenet-sample-dev"
OUT = Path(__file__).resolve().parents[1] / "results" / "ladder_probe.json"
NETS = {"lite0": "efficientnet_lite0", "lite1": "efficientnet_lite1", "lite2": "efficientnet_lite2"}
REFERENCE = "lite0-224"
BUDGETS = (0.8, 0.9, 1.0, 1.2)
THRESHOLDS = np.unique(np.r_[np.linspace(0.0, 1.0, 101), [0.995, 0.999, 1.01]])  # 0: never escalate; 1.01: always
LADDERS: tuple[tuple[str, ...], ...] = (
    *((a, b) for b in ("lite0-224", "lite1-240", "lite2-260") for a in ("lite0-128", "lite0-160", "lite0-192")),
    ("lite0-128", "lite0-192", "lite2-260"),
    ("lite0-160", "lite0-224", "lite2-260"),
    ("lite0-160", "lite0-224", "lite1-240"),
    ("lite0-160", "lite1-240", "lite2-260"),
)

Outcomes = dict  # paths, labels, correct/conf {setting: (N,)}, macs {setting: int}


def outcomes(cache: Path) -> Outcomes:
    """Per-photo correctness and max softmax of every network at every resolution of its config."""
    if cache.is_file():
        return pickle.loads(cache.read_bytes())
    folder = scan_folder(DATA)
    out: Outcomes = {"paths": None, "labels": None, "correct": {}, "conf": {}, "macs": {}}
    for short, name in NETS.items():
        cfg = get_backbone_cfg(name)
        res = list(cfg.resolutions)
        net, _ = open_model(ModelSource(backbone=name, resolutions=res))
        preds, skipped = predict_folder(net, folder, res, cfg.preprocess, progress=False)
        assert not skipped and out["paths"] in (None, preds.paths), "every network must see the same photos"
        out["paths"], out["labels"] = preds.paths, preds.labels
        for k, r in enumerate(res):
            out["correct"][f"{short}-{r}"] = preds.correct()[:, k]
            out["conf"][f"{short}-{r}"] = preds.confidence[:, k]
            out["macs"][f"{short}-{r}"] = backbone_macs(name, r)
        print(f"{name}: {', '.join(f'{r}px {preds.correct()[:, k].mean():.3f}' for k, r in enumerate(res))}")
    atomic_write(cache, lambda p: p.write_bytes(pickle.dumps(out)))
    return out


def replay(o: Outcomes, ladder: tuple[str, ...], ts: tuple[float, ...], rows: np.ndarray) -> tuple:
    """Correctness, MACs and rung answered of each photo in ``rows`` under the ladder with thresholds ``ts``."""
    n = int(rows.sum())
    active, ok, cost, rung = np.ones(n, bool), np.zeros(n, bool), np.zeros(n), np.zeros(n, np.int64)
    for i, s in enumerate(ladder):
        cost[active] += o["macs"][s]
        stop = active & ((o["conf"][s][rows] >= ts[i]) if i < len(ladder) - 1 else True)
        ok[stop], rung[stop] = o["correct"][s][rows][stop], i
        active &= ~stop
    return ok, cost, rung


def pick(o: Outcomes, ladder: tuple[str, ...], rows: np.ndarray) -> dict[float, tuple[float, ...]]:
    """Per budget, the thresholds most accurate on ``rows`` (then cheapest) within B x the reference's MACs."""
    grid = list(itertools.product(THRESHOLDS, repeat=len(ladder) - 1))
    scores = np.array([(r[0].mean(), r[1].mean()) for r in (replay(o, ladder, ts, rows) for ts in grid)])
    chosen = {}
    for b in BUDGETS:
        fits = np.flatnonzero(scores[:, 1] <= b * o["macs"][REFERENCE])
        if not len(fits):  # the first rung alone is over budget: its cheapest setting
            fits = np.array([int(np.argmin(scores[:, 1]))])
        best = fits[np.lexsort((scores[fits, 1], -scores[fits, 0]))[0]]
        chosen[b] = tuple(round(float(t), 4) for t in grid[best])
    return chosen


def frontier(o: Outcomes) -> list[str]:
    """Vertices of the upper concave hull of the fixed (MACs, top-1) points (``results.upper_hull``),
    cheapest first, up to the most accurate one."""
    names = list(o["macs"])
    hull = [names[i] for i in upper_hull([(o["macs"][s], float(o["correct"][s].mean())) for s in names])]
    top = max(range(len(hull)), key=lambda i: o["correct"][hull[i]].mean())
    return hull[: top + 1]


def frontier_at(o: Outcomes, hull: list[str], macs: float) -> tuple[np.ndarray, str] | None:
    """Per-photo correctness of the frontier at mean ``macs`` and the two vertices it joins (None outside)."""
    for a, b in itertools.pairwise(hull):
        x0, x1 = o["macs"][a], o["macs"][b]
        if x0 <= macs <= x1:
            w = (macs - x0) / (x1 - x0)
            return (1 - w) * o["correct"][a] + w * o["correct"][b], f"{a}..{b} w={w:.2f}"
    return None


def run_ladder(o: Outcomes, ladder: tuple[str, ...], folds: np.ndarray, hull: list[str]) -> list[dict]:
    """Every budget's cross-fitted, pooled row for one ladder."""
    picks = {f: pick(o, ladder, folds != f) for f in (0, 1)}  # calibrated on the other fold
    ref, n = o["correct"][REFERENCE], len(folds)
    rows = []
    for b in BUDGETS:
        ok, cost, rung = np.zeros(n, bool), np.zeros(n), np.zeros(n, np.int64)
        for f in (0, 1):
            ok[folds == f], cost[folds == f], rung[folds == f] = replay(o, ladder, picks[f][b], folds == f)
        line = frontier_at(o, hull, float(cost.mean()))
        rows.append(
            {
                "ladder": " > ".join(ladder),
                "budget": b,
                "thresholds_by_eval_fold": {str(f): picks[f][b] for f in (0, 1)},
                "top1": float(ok.mean()),
                "macs_m": float(cost.mean() / 1e6),
                "macs_ratio": float(cost.mean() / o["macs"][REFERENCE]),
                "answered_share": {s: float((rung == i).mean()) for i, s in enumerate(ladder)},
                "vs_lite0_224": paired(ok, ref),
                "vs_frontier": None
                if line is None
                else {"frontier_top1": float(line[0].mean()), "between": line[1], **paired(ok, line[0])},
            }
        )
    return rows


def table(fixed: dict, rows: list[dict], hull: list[str]) -> str:
    f = lambda d: "" if d is None else f"{d['delta_pts']:+.1f} ({d['se_pts']:.1f})"  # noqa: E731
    lines = ["fixed: " + ", ".join(f"{s} {v['top1']:.3f} @{v['macs_ratio']:.2f}x" for s, v in fixed.items())]
    lines += [f"frontier: {' -> '.join(hull)}", ""]
    lines += [f"{'ladder':<34} {'B':>4} {'top-1':>6} {'MACs':>6} {'vs L0-224':>11} {'vs frontier':>11}"]
    for r in rows:
        lines.append(
            f"{r['ladder']:<34} {r['budget']:>4.1f} {r['top1']:>6.3f} {r['macs_ratio']:>5.2f}x "
            f"{f(r['vs_lite0_224']):>11} {f(r['vs_frontier']):>11}"
        )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    if not DATA.is_dir():
        sys.exit(
            f"{DATA}: the 500 ImageNet photos are not shipped (public source: github.com/EliSchwartz/"
            "imagenet-sample-images, one photo per ImageNet class; this probe uses the even class indices)"
        )
    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    cache = args.out.with_suffix(".outcomes.pkl")
    cached = cache.is_file()
    o = outcomes(cache)
    folds = np.array([fold_of(Path(p), DATA, 2) for p in o["paths"]])
    ref_macs = o["macs"][REFERENCE]
    fixed = {
        s: {"top1": float(o["correct"][s].mean()), "macs_m": o["macs"][s] / 1e6, "macs_ratio": o["macs"][s] / ref_macs}
        for s in sorted(o["macs"], key=o["macs"].get)
    }
    hull = frontier(o)
    rows = [r for ladder in LADDERS for r in run_ladder(o, ladder, folds, hull)]
    atomic_write_json(
        args.out,
        {
            "photos": str(DATA),
            "n": len(folds),
            "folds": {str(f): int((folds == f).sum()) for f in (0, 1)},
            "objective": "most accurate (then cheapest) thresholds on the other fold with mean MACs <= B x lite0-224",
            "threshold_grid": [float(t) for t in THRESHOLDS],
            "hardware": {
                "machine": platform.machine(),
                "processor": platform.processor(),
                "torch_threads": torch.get_num_threads(),
            },
            "macs_counter": "torch.utils.flop_counter.FlopCounterMode (MACs = FLOPs / 2)",
            "fixed": fixed,
            "frontier": hull,
            "rows": rows,
            "seconds": round(time.perf_counter() - start, 1),
            "outcomes_from_cache": cached,  # the full run (three networks x five resolutions) took ~7 min
        },
    )
    print(table(fixed, rows, hull))


if __name__ == "__main__":
    main()
