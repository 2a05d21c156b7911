"""Calibrate each shipped DRNet's default policy on one fold of photos it never trained on and evaluate
it on the other fold (then swap: cross-fit), against every fixed resolution, the line through them and
the policy's random control. Writes the calibrated checkpoints (fold A) for bundling.

    .venv/bin/python benchmarks/probes/dynamic_policies.py --out benchmarks/results/dynamic_policies \\
        [--checkpoints out/calibrated]

Photos (stated in the output):
* lite0-imagenet: the 500 shared ImageNet photos (its frozen ImageNet backbone never trained on
  them), split by path hash into test:0/2 and test:1/2. The predictor-based candidates saw every
  photo in training, so their figures here are optimistic; the cascades are not.
* lite0-imagewoof: its 628 held-out Imagewoof photos (test:0/5; the backbone trained on the rest),
  split into test:0/10 and test:5/10.
lite0-imagenet is reported under two objectives: ``--max-drop 1.0`` (bundled: accuracy first) and
``--target-ratio 0.7`` (the MACs budget a <= 0.80x latency target needs: on this machine's int8 TFLite
bench a policy's latency ratio ran about 0.07 above its MACs ratio).
Per-resolution outcomes are computed once per photo set and cached under --out (delete to rerun).

Also written (``pooled.json``, and a section of ``results.md``): each objective cross-fitted over 2
and over 4 folds of the same photos, pooled so every photo is scored once by a policy calibrated on
the other folds, with paired standard errors against the largest resolution, the fixed frontier and the
baseline. The 2-fold rows are the two splits above pooled (for lite0-imagewoof its 0/10 and 5/10 are
the 2 folds of the 628 photos).

Also written (``hindsight.json``, and a section of ``results.md``): for each model, the most accurate
confidence cascade at several MACs budgets with its thresholds picked on the very photos it is scored
on (every fold together). That is an upper bound for any max-softmax cascade over the model's
resolutions on these photos, not a result: it says whether an acceptance target is reachable at all.
"""

from __future__ import annotations

import argparse
import json
import pickle
from pathlib import Path

import numpy as np

from drnet_edge._io import atomic_write, atomic_write_json, atomic_write_text
from drnet_edge.data.classes import imagenet_classes
from drnet_edge.data.folders import fold_of, scan_folder
from drnet_edge.evaluate import score_policies
from drnet_edge.models.checkpoint import read_checkpoint, save_checkpoint
from drnet_edge.policy.candidates import pick, reference, replay_candidates
from drnet_edge.policy.registry import expand_policies
from drnet_edge.policy.rows import fixed_line_at, paired, paired_text, score
from drnet_edge.policy.selection import calibration_record, select_policy
from drnet_edge.runtime.bundled import resolve_model
from drnet_edge.runtime.interface import macs_by_resolution
from drnet_edge.runtime.outputs import predict_folder
from drnet_edge.runtime.source import ModelSource, open_model

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
BASELINES = {"lite0-imagewoof": "lite0-imagewoof-base"}  # a plain model trained on the same photos, at 224
SETS = {
    # model: (photos, subset of photos the backbone never trained on, fold count, fold ids, objectives);
    # the first objective is the one bundled, the others are reported beside it
    "lite0-imagenet": ("imagenet-sample-dev", None, 2, (0, 1), ({"max_drop": 1.0}, {"target_ratio": 0.7})),
    "lite0-imagewoof": ("imagewoof-train-3k", "test:0/5", 10, (0, 5), ({"target_ratio": 0.6},)),
}


def outcomes(model: str, data: Path, subset: str | None, cache: Path):  # noqa: ANN201
    if cache.is_file():
        return pickle.loads(cache.read_bytes())
    net, classes = open_model(ModelSource(model=model))
    folder = scan_folder(
        data, classes=None if classes is None or classes.ids == imagenet_classes().ids else classes, subset=subset
    )
    preds, _ = predict_folder(net, folder, net.resolutions, net.preprocess)
    macs = macs_by_resolution(net)
    out = (preds, macs, net.predictor_macs())
    atomic_write(cache, lambda p: p.write_bytes(pickle.dumps(out)))
    return out


def run_model(model: str, out: Path, ckpt_dir: Path | None) -> list[dict]:
    """Every objective of ``model``: one result each (the first one's fold-A checkpoint is written)."""
    return [run_objective(model, i, out, ckpt_dir if i == 0 else None) for i in range(len(SETS[model][4]))]


def run_objective(model: str, which: int, out: Path, ckpt_dir: Path | None) -> dict:
    photos, subset, n_folds, fold_ids, objectives = SETS[model]
    objective = objectives[which]
    root = SHARED / photos
    preds, macs, pred_macs = outcomes(model, root, subset, out / f"{model}.outcomes.pkl")
    folds = np.array([fold_of(Path(p), root, n_folds) for p in preds.paths])
    base = None
    if model in BASELINES:
        base, base_macs, _ = outcomes(BASELINES[model], root, subset, out / f"{BASELINES[model]}.outcomes.pkl")
        assert base.paths == preds.paths, "baseline outcomes must be on the same photos in the same order"
    result: dict = {
        "model": model,
        "photos": str(root),
        "subset": subset,
        "objective": objective,
        "bundled": which == 0,
        "splits": [],
    }
    for cal_fold, eval_fold in (fold_ids, fold_ids[::-1]):
        cal, ev = preds.subset(folds == cal_fold), preds.subset(folds == eval_fold)
        full = {"max_drop": None, "target_ratio": None, "require_bound": False, **objective}
        sel = select_policy(cal, macs, pred_macs, **full)
        chosen = sel.chosen
        source = {"model": model, "runtime": "pytorch", "precision": "fp32"}
        rec = calibration_record(sel, cal, objective=full, data=f"{root} fold {cal_fold}/{n_folds}", source=source)
        pols = expand_policies(["fixed", chosen.name], ev.resolutions)
        if ev.predictor_choice is not None and chosen.name != "drnet":
            pols += expand_policies(["drnet", "random"], ev.resolutions)
        rows = score_policies(ev, pols, macs, pred_macs)
        if base is not None:
            b = base.subset(folds == eval_fold)
            fixed = expand_policies([f"fixed-{b.resolutions[0]}"], b.resolutions)[0]
            row = score(fixed, b, {b.resolutions[0]: base_macs[b.resolutions[0]]})
            row.description = f"baseline: {BASELINES[model]} at {b.resolutions[0]}px"
            rows[chosen.name].extra["vs_baseline"] = paired(rows[chosen.name].correct, row.correct)
            rows["baseline"] = row
        split = {
            "calibration_fold": f"{cal_fold}/{n_folds}",
            "evaluation_fold": f"{eval_fold}/{n_folds}",
            "n_calibration": cal.n,
            "n_evaluation": ev.n,
            "default_policy": chosen.name,
            "calibration": rec["calibration"],
            "policies": {k: v.to_json() for k, v in rows.items()},
        }
        result["splits"].append(split)
        if ckpt_dir is not None and cal_fold == fold_ids[0]:
            ckpt = read_checkpoint(resolve_model(model))
            ckpt["policy"] = rec
            save_checkpoint(ckpt_dir / f"{model}.pt", ckpt)
    return result


def pooled(model: str, out: Path, k: int, cache: Path | None = None) -> dict:
    """Every objective of ``model`` cross-fitted over ``k`` folds (each calibrated on the other k-1),
    pooled so each photo is scored once by a policy that never saw it: top-1, MACs and paired
    differences against the largest resolution, the line through the fixed ones and the baseline."""
    photos, subset, _, _, objectives = SETS[model]
    root = SHARED / photos
    preds, macs, pred_macs = outcomes(model, root, subset, cache or out / f"{model}.outcomes.pkl")
    folds = np.array([fold_of(Path(p), root, k) for p in preds.paths])
    base = None
    if model in BASELINES:
        base = outcomes(BASELINES[model], root, subset, out / f"{BASELINES[model]}.outcomes.pkl")[0]
    cost = np.array([macs[r] for r in preds.resolutions], dtype=np.float64)
    right = preds.correct()
    fixed_rows = score_policies(preds, expand_policies(["fixed"], preds.resolutions), macs)
    rows = []
    for objective in objectives:
        ok, spent, chosen = np.zeros(preds.n, bool), np.zeros(preds.n), []
        for f in range(k):
            cal, ev = folds != f, folds == f
            full = {"max_drop": None, "target_ratio": None, "require_bound": False, **objective}
            pol = select_policy(preds.subset(cal), macs, pred_macs, **full).chosen
            d = expand_policies([pol.name], preds.resolutions, with_controls=False)[0].decide(preds.subset(ev))
            ok[ev] = right[ev][np.arange(int(ev.sum())), d.final]
            spent[ev] = d.ran @ cost + (pred_macs if d.uses_predictor else 0)
            chosen.append(pol.name)
        line = fixed_line_at(fixed_rows, float(spent.mean()) / 1e6)
        rows.append(
            {
                "objective": objective,
                "folds": k,
                "n": preds.n,
                "policies": chosen,
                "top1": float(ok.mean()),
                "macs_ratio": float(spent.mean() / cost[0]),
                "vs_largest": paired(ok, right[:, 0]),
                "vs_fixed_frontier": None if line is None else paired(ok, line[0]),
                "vs_baseline": None if base is None else paired(ok, base.correct()[:, 0]),
                "baseline": BASELINES.get(model),
            }
        )
    return {"model": model, "photos": str(root), "subset": subset, "rows": rows}


def pooled_markdown(rows: list[dict]) -> str:
    lines = [
        "## Pooled cross-fit: each photo scored once, by a policy calibrated on the other folds",
        "",
        "| model | objective | folds | n | top-1 | MACs vs largest | vs largest (pts, SE) | vs fixed frontier (pts, SE) "
        "| vs baseline (pts, SE) | policies chosen |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    note = "lite0-imagenet's predictor trained on all 500 photos: a row whose policies include `drnet` is optimistic."
    f = paired_text
    for m in rows:
        for r in m["rows"]:
            lines.append(
                f"| {m['model']} | {r['objective']} | {r['folds']} | {r['n']} | {100 * r['top1']:.1f}% | "
                f"{r['macs_ratio']:.2f}x | {f(r['vs_largest'])} | {f(r['vs_fixed_frontier'])} | {f(r['vs_baseline'])} | "
                f"{', '.join(dict.fromkeys(r['policies']))} |"
            )
    return "\n".join([*lines, "", note]) + "\n"


BUDGETS = (0.60, 0.66, 0.70, 0.75, 0.80, 0.85)


def hindsight(model: str, out: Path) -> dict:
    """The best cascade at each MACs budget, thresholds picked on the photos scored (an upper bound)."""
    photos, subset, *_ = SETS[model]
    preds, macs, _ = outcomes(model, SHARED / photos, subset, out / f"{model}.outcomes.pkl")
    preds.predictor_choice = None  # the predictor's variants: lite0-imagenet's predictor saw these photos
    cands = replay_candidates(preds, macs)
    largest = reference(cands)
    best = {}
    for budget in BUDGETS:
        c = pick(cands, max_drop=None, target_ratio=budget, require_bound=False)
        best[f"{budget:.2f}"] = {
            "policy": c.name,
            "top1": c.top1,
            "macs_ratio": c.macs / largest.macs,
            "vs_largest_pts": 100 * (c.top1 - largest.top1),
        }
    baseline = None
    if model in BASELINES:
        base, _, _ = outcomes(BASELINES[model], SHARED / photos, subset, out / f"{BASELINES[model]}.outcomes.pkl")
        baseline = {"model": BASELINES[model], "top1": float(base.correct()[:, 0].mean())}
    return {
        "model": model,
        "photos": str(SHARED / photos),
        "subset": subset,
        "n": preds.n,
        "largest": largest.name,
        "largest_top1": largest.top1,
        "baseline": baseline,
        "candidates": len(cands),
        "best": best,
    }


def hindsight_markdown(rows: list[dict]) -> str:
    lines = [
        "## Hindsight bound: the best max-softmax cascade at each MACs budget, thresholds picked on the photos scored",
        "",
        "Not a result (the thresholds see the answers): what no calibrated cascade over these resolutions can beat",
        "on these photos.",
        "",
        "| model (photos) | largest (baseline) | " + " | ".join(f"<= {b:.2f}x" for b in BUDGETS) + " |",
        "|---|---|" + "---|" * len(BUDGETS),
    ]
    for r in rows:
        cells = [f"{100 * v['top1']:.1f}% ({v['vs_largest_pts']:+.1f})" for v in r["best"].values()]
        base = f"; {r['baseline']['model']} {100 * r['baseline']['top1']:.1f}%" if r.get("baseline") else ""
        lines.append(
            f"| {r['model']} ({r['n']} photos) | {r['largest']} {100 * r['largest_top1']:.1f}%{base} | "
            + " | ".join(cells)
            + " |"
        )
    return "\n".join(lines) + "\n"


def markdown(results: list[dict]) -> str:
    lines = ["# Default policies: calibrated on one fold, evaluated on the other (cross-fit)", ""]
    for r in results:
        role = "bundled default" if r.get("bundled", True) else "reported alongside, not bundled"
        lines += [
            f"## {r['model']} ({r['photos']}, {r['subset'] or 'all photos'}; objective {r['objective']}, {role})",
            "",
        ]
        for s in r["splits"]:
            ref = s["policies"][
                f"fixed-{max(int(k.removeprefix('fixed-')) for k in s['policies'] if k.startswith('fixed-'))}"
            ]
            lines += [
                f"calibrated on fold {s['calibration_fold']} (n={s['n_calibration']}), evaluated on fold "
                f"{s['evaluation_fold']} (n={s['n_evaluation']}); default policy **{s['default_policy']}**",
                "",
                "| policy | top-1 | MACs vs largest | escalated | vs fixed frontier (pts, SE) | vs control (pts, SE) | vs largest (pts, SE) | vs baseline (pts, SE) |",
                "|---|---|---|---|---|---|---|---|",
            ]
            for name, p in s["policies"].items():
                f = lambda k, p=p: f"{p[k]['delta_pts']:+.1f} ({p[k]['se_pts']:.1f})" if k in p else ""  # noqa: E731
                lines.append(
                    f"| {name} | {100 * p['top1']:.1f}% | {p['macs_m'] / ref['macs_m']:.2f}x | "
                    f"{100 * p['escalation_rate']:.0f}% | {f('vs_fixed_frontier')} | {f('vs_control')} | {f('vs_largest')} | {f('vs_baseline')} |"
                )
            lines.append("")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/dynamic_policies"))
    ap.add_argument("--checkpoints", type=Path, default=None, help="write fold-A calibrated checkpoints here")
    ap.add_argument("--models", default=",".join(SETS))
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    models = args.models.split(",")
    results = [r for m in models for r in run_model(m, args.out, args.checkpoints)]
    bounds = [hindsight(m, args.out) for m in models]
    pools = [pooled(m, args.out, k) for k in (2, 4) for m in models]
    atomic_write_json(args.out / "results.json", results)
    atomic_write_json(args.out / "hindsight.json", bounds)
    atomic_write_json(args.out / "pooled.json", pools)
    text = markdown(results) + "\n" + pooled_markdown(pools) + "\n" + hindsight_markdown(bounds)
    atomic_write_text(args.out / "results.md", text)
    print(text)
    print(json.dumps([[r["model"], r["objective"], [s["default_policy"] for s in r["splits"]]] for r in results]))


if __name__ == "__main__":
    main()
