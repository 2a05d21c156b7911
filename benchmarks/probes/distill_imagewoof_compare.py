"""Compare the two fine-tunes of ``benchmarks/probes/distill_imagewoof.sh`` (and the bundled lite0-imagewoof)
on the 628 held-out Imagewoof photos: every fixed resolution, paired per photo against the control,
and the ``--target-ratio 0.6`` default policy cross-fitted over 2 and 4 folds against
lite0-imagewoof-base (the machinery of ``benchmarks/probes/dynamic_policies.py``).

    .venv/bin/python benchmarks/probes/distill_imagewoof_compare.py DISTILLED.pt CONTROL.pt
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import dynamic_policies as dp  # noqa: E402

from drnet_edge._io import atomic_write_json, atomic_write_text  # noqa: E402
from drnet_edge.policy.rows import paired  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "results"
DP_OUT = OUT / "dynamic_policies"  # the baseline's cached outcomes live there


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("distilled", type=Path)
    ap.add_argument("control", type=Path)
    ap.add_argument("--cache", type=Path, default=Path("runs/distill"))
    args = ap.parse_args()
    models = {"bundled": "lite0-imagewoof", "control": str(args.control), "distilled": str(args.distilled)}
    for m in models.values():  # the same photos, objective and baseline as the bundled model
        dp.SETS[m] = dp.SETS["lite0-imagewoof"]
        dp.BASELINES[m] = "lite0-imagewoof-base"
    photos, subset, *_ = dp.SETS["lite0-imagewoof"]
    args.cache.mkdir(parents=True, exist_ok=True)
    cache = {name: args.cache / f"{name}.outcomes.pkl" for name in models}
    cache["bundled"] = DP_OUT / "lite0-imagewoof.outcomes.pkl"  # what dynamic_policies.py scored
    preds = {name: dp.outcomes(m, dp.SHARED / photos, subset, cache[name])[0] for name, m in models.items()}
    res = preds["bundled"].resolutions
    fixed = {name: {str(r): p.correct()[:, k] for k, r in enumerate(res)} for name, p in preds.items()}
    result: dict = {"n": preds["bundled"].n, "photos": str(dp.SHARED / photos), "subset": subset}
    result["fixed"] = {name: {r: float(v.mean()) for r, v in fixed[name].items()} for name in models}
    result["fixed_distilled_minus_control"] = {
        r: paired(fixed["distilled"][r], fixed["control"][r]) for r in fixed["control"]
    }
    result["policy"] = {
        name: [dp.pooled(m, DP_OUT, k, cache=cache[name])["rows"][0] for k in (2, 4)] for name, m in models.items()
    }
    lines = [
        "# In-place distillation against the same fine-tune without it (lite0-imagewoof, 628 held-out photos)",
        "",
        "| model | "
        + " | ".join(f"fixed-{r}" for r in res)
        + " | policy 2-fold (MACs) vs base | policy 4-fold (MACs) vs base |",
        "|---|" + "---|" * (len(res) + 2),
    ]
    for name in models:
        f = result["fixed"][name]
        pol = result["policy"][name]
        cells = [f"{100 * f[str(r)]:.1f}%" for r in res]
        cells += [
            f"{100 * p['top1']:.1f}% ({p['macs_ratio']:.2f}x) {p['vs_baseline']['delta_pts']:+.1f} ({p['vs_baseline']['se_pts']:.1f})"
            for p in pol
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    d = result["fixed_distilled_minus_control"]
    lines += [
        "",
        "distilled minus control, paired (pts, SE): "
        + ", ".join(f"{r}: {v['delta_pts']:+.1f} ({v['se_pts']:.1f})" for r, v in d.items()),
    ]
    atomic_write_json(OUT / "distill_imagewoof.json", result)
    atomic_write_text(OUT / "distill_imagewoof.md", "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
