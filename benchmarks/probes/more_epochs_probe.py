"""The report of ``more_epochs_probe.sh``: every fixed resolution of the flat backbone before (``flat-pred.pt``,
the bundled ``lite0-imagewoof``) and after six more multi-resolution epochs (``flat-more.pt``), and the
re-trained plain base (``base.pt``) at 224 px, fp32 PyTorch, on the 1,925 validation photos and on the 628
held-out ones; paired differences in points (SE). Outcomes are cached under ``--runs``/outcomes."""

from __future__ import annotations

import argparse
import platform
import sys
from pathlib import Path

from drnet_edge._io import atomic_write_json, atomic_write_text
from drnet_edge.policy.rows import paired, paired_text
from drnet_edge.runtime.source import ModelSource

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "release"))
from shipped_policies import cached_outcomes, outcome_key  # noqa: E402  (the one outcome loop)

MODELS = {"before": "flat-pred.pt", "after": "flat-more.pt", "base": "base.pt"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=Path, required=True)
    ap.add_argument("--calib", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    sets = {"imagewoof-val-calib (1,925)": args.calib, "held-out test:0/5 (628)": args.runs / "heldout"}
    doc: dict = {"hardware": {"machine": platform.machine(), "cores": 2}, "precision": "fp32", "sets": {}}
    lines = [
        "Six more multi-resolution epochs of the flat lite0-imagewoof backbone (`more_epochs_probe.sh`), fp32 "
        "PyTorch; top-1 per fixed resolution; paired differences in points (SE)",
        "",
        "| photos | model | 224 | 192 | 160 | 128 |",
        "|---|---|---|---|---|---|",
    ]
    notes = []
    for label, folder in sets.items():
        right = {}
        for name, file in MODELS.items():
            path = args.runs / file
            cache = args.runs / "outcomes" / f"{name}.{outcome_key(path, str(folder.resolve()))}.pkl"
            preds = cached_outcomes(ModelSource(model=path), [(folder, None)], cache)[0]
            right[name] = {r: preds.top1[:, k] == preds.labels for k, r in enumerate(preds.resolutions)}
        rows = {name: {str(r): float(c.mean()) for r, c in v.items()} for name, v in right.items()}
        after_minus_before = {str(r): paired(right["after"][r], right["before"][r]) for r in right["before"]}
        vs_base = {name: paired(right[name][224], right["base"][224]) for name in ("before", "after")}
        doc["sets"][label] = {"top1": rows, "after_minus_before": after_minus_before, "vs_base_224": vs_base}
        for name in MODELS:
            cells = [f"{100 * rows[name][str(r)]:.1f}%" if str(r) in rows[name] else "" for r in (224, 192, 160, 128)]
            lines.append(f"| {label} | {name} | {' | '.join(cells)} |")
        lines.append(
            f"| {label} | after - before | {' | '.join(paired_text(after_minus_before[str(r)]) for r in (224, 192, 160, 128))} |"
        )
        notes.append(
            f"{label}: 224 px against the base: before {paired_text(vs_base['before'])}, after {paired_text(vs_base['after'])}"
        )
    atomic_write_json(args.out.with_suffix(".json"), doc)
    atomic_write_text(args.out.with_suffix(".md"), "\n".join([*lines, "", *notes]) + "\n")
    print("\n".join([*lines, "", *notes]))


if __name__ == "__main__":
    main()
