"""The paired comparison of benchmarks/reproduce/compare_bn.sh: image by image on the same held-out photos
(test:0/5), shared BN minus resolution-aware BN top-1 at every fixed resolution, with the paired
standard error. Reads ``RUNS/{resolution-bn,shared-bn}-eEPOCHS.pt``; writes ``RESULTS/bn_compare_eEPOCHS.json``.

    .venv/bin/python benchmarks/reproduce/compare_bn_paired.py --data ../shared/data/imagewoof-train-3k \
        --runs runs/bn-compare --epochs 3 --results benchmarks/results --threads 2
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

import drnet_edge as de
from drnet_edge._io import atomic_write_text
from drnet_edge.policy.stats import paired_top1

SUBSET = "test:0/5"
VARIANTS = ("resolution-bn", "shared-bn")  # ref, new


def compare(data: Path, runs: Path, epochs: int) -> dict:
    preds = {}
    for v in VARIANTS:
        net, classes = de.open_model(de.ModelSource(model=runs / f"{v}-e{epochs}.pt"))
        folder = de.scan_folder(data, classes=classes, subset=SUBSET)
        preds[v], _ = de.predict_folder(net, folder, net.resolutions, net.preprocess, progress=False)
    ref, new = (preds[v] for v in VARIANTS)
    assert ref.paths == new.paths
    return {
        "n": ref.n,
        "epochs": epochs,
        "ref": VARIANTS[0],
        "new": VARIANTS[1],
        "subset": SUBSET,
        "fixed": {
            str(r): paired_top1(ref.labels, ref.top1[:, k], new.top1[:, k]) for k, r in enumerate(ref.resolutions)
        },
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True, help="the Imagewoof folder (held-out fold test:0/5)")
    ap.add_argument("--runs", type=Path, required=True, help="folder holding the two trained checkpoints")
    ap.add_argument("--epochs", type=int, required=True, help="the EPOCHS of the checkpoint names")
    ap.add_argument("--results", type=Path, required=True, help="where bn_compare_e<EPOCHS>.json goes")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    out = compare(args.data, args.runs, args.epochs)
    atomic_write_text(args.results / f"bn_compare_e{args.epochs}.json", json.dumps(out, indent=2) + "\n")
    print(f"shared BN minus resolution-aware BN, top-1 points (paired SE), n = {out['n']}:")
    for r, c in out["fixed"].items():
        print(
            f"  {r}: {100 * c['top1_ref']:.1f}% -> {100 * c['top1_new']:.1f}%  "
            f"{100 * c['delta']:+.1f} ({100 * c['delta_se']:.1f})"
        )


if __name__ == "__main__":
    main()
