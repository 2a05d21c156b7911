"""Research probe (#32): the DRNet's small passes with the plain base as its 224 px pass.

The converted DRNet is one TFLite file per resolution, and the plain fine-tune ``lite0-imagewoof-base`` is
the same Lite0 graph at 224 px with the same preprocessing. A "hybrid" swaps the base's file in for the
DRNet's ``backbone_224``: fixed-224 becomes the base, and every cascade that escalates to 224 px
escalates to the base. Its MACs are the DRNet's (the same graph at every resolution); what changes is
the answer (and the confidence) at 224 px.

Settings fixed before any run: the shipped objective (``--target-ratio 0.60``), the shipped photos and
int8 outcomes of ``release/shipped_policies.py`` (2,553 Imagewoof photos that trained neither model; run
that first: this probe reads its caches), its cross-fit (``crossfit_row``: ``calibrate``'s two-step pick
on 4 of 5 folds, scored on the fifth, pooled) and hindsight bound. Rows: the DRNet as shipped and the
hybrid, each against its frontier, its control, its own 224 px and the base.

    .venv/bin/python benchmarks/probes/hybrid_224_probe.py   # writes benchmarks/results/hybrid_224_probe.{json,md}

``convert`` builds an artifact folder from one checkpoint, so nothing here makes a hybrid folder yet: this
probe measures whether one would be worth building.
"""

from __future__ import annotations

import platform
import sys
from dataclasses import replace
from pathlib import Path

from drnet_edge._io import atomic_write_json, atomic_write_text
from drnet_edge.policy.registry import Predictions
from drnet_edge.policy.rows import paired_text

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "release"))
from shipped_policies import WOOF, crossfit_row, hindsight, outcomes  # noqa: E402  (the shipped cross-fit)

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "benchmarks" / "results" / "hybrid_224_probe"
CACHES = ROOT / "benchmarks" / "results" / "shipped_policies"
ARTS = ROOT / "runs" / "convert"
OBJECTIVE = {"target_ratio": 0.60}


def hybrid(drnet: Predictions, base: Predictions) -> Predictions:
    """``drnet`` with ``base``'s answers (class, max softmax, margin) in its largest resolution's column."""
    assert [Path(p).name for p in base.paths] == [Path(p).name for p in drnet.paths], "same photos, same order"
    top1, conf = drnet.top1.copy(), drnet.confidence.copy()
    top1[:, 0], conf[:, 0] = base.top1[:, 0], base.confidence[:, 0]
    margin = None
    if drnet.margin is not None and base.margin is not None:
        margin = drnet.margin.copy()
        margin[:, 0] = base.margin[:, 0]
    return replace(drnet, top1=top1, confidence=conf, margin=margin)


def main() -> None:
    drnet, macs, pm = outcomes("lite0-imagewoof", "int8", WOOF, ARTS, CACHES)
    base = outcomes("lite0-imagewoof-base", "int8", WOOF, ARTS, CACHES)[0]
    rows = {}
    for name, preds in (("drnet", drnet), ("hybrid", hybrid(drnet, base))):
        row = crossfit_row(preds, macs, pm, OBJECTIVE, base)
        row.pop("correct")
        rows[name] = {**row, "hindsight": hindsight(preds, macs, pm)}
    doc = {
        "hardware": {"machine": platform.machine(), "cores": 2},
        "photos": [f"{n}{f' ({s})' if s else ''}" for n, s in WOOF],
        "objective": OBJECTIVE,
        "rows": rows,
    }
    atomic_write_json(OUT.with_suffix(".json"), doc)
    t = lambda d: paired_text(d, "-")  # noqa: E731
    lines = [
        f"Hybrid probe: lite0-imagewoof int8 with lite0-imagewoof-base int8 as its 224 px pass; n = {drnet.n} "
        f"({', '.join(doc['photos'])}); --target-ratio 0.60 cross-fitted over 5 folds; paired points (SE)",
        "",
        "| model | default, out of fold | vs frontier | vs control | vs its 224 | vs base | fixed 224 / 192 / 160 / 128 "
        "| hindsight <= 0.60x |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, r in rows.items():
        fixed = " / ".join(f"{100 * v['top1']:.1f}%" for v in r["fixed"].values())
        h = r["hindsight"]["0.60"]
        lines.append(
            f"| {name} | {100 * r['top1']:.1f}% at {r['macs_ratio']:.2f}x | {t(r['vs_fixed_frontier'])} | "
            f"{t(r['vs_control'])} | {t(r['vs_largest'])} | {t(r['vs_base'])} | {fixed} | "
            f"{100 * h['top1']:.1f}% at {h['macs_ratio']:.2f}x (`{h['policy']}`) |"
        )
    lines += ["", f"Policies the folds chose (hybrid): {', '.join(rows['hybrid']['policies'])}"]
    atomic_write_text(OUT.with_suffix(".md"), "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
