"""Pool per-fold `drnet-edge eval --json` reports into one (weighted by each fold's n).

python benchmarks/reproduce/pool_folds.py runs/cv/fold?.json --json pooled.json --plot pooled.png
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rich.console import Console

from drnet_edge._io import atomic_write_json
from drnet_edge.plots import save_plot
from drnet_edge.tables import policy_table


def pool(reports: list[dict]) -> dict:
    """Weighted means of top1, macs_m and resolution_share over folds."""
    n = sum(r["n"] for r in reports)
    out = {k: v for k, v in reports[0].items() if k not in ("n", "policies", "data", "skipped_bad")}
    out.update({"n": n, "folds": len(reports), "data": ", ".join(sorted({r["data"] for r in reports})), "policies": {}})
    for name, first in reports[0]["policies"].items():
        w = [(r["n"] / n, r["policies"][name]) for r in reports]
        out["policies"][name] = {
            "top1": sum(f * p["top1"] for f, p in w),
            "macs_m": sum(f * p["macs_m"] for f, p in w),
            "resolution_share": {k: sum(f * p["resolution_share"][k] for f, p in w) for k in first["resolution_share"]},
            "upper_bound": first.get("upper_bound", False),
            "description": first.get("description", ""),
        }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("reports", nargs="+", type=Path)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--plot", type=Path)
    args = ap.parse_args()
    pooled = pool([json.loads(p.read_text()) for p in args.reports])
    Console(width=140).print(
        policy_table(pooled, title=f"{pooled['backbone']}: {pooled['folds']}-fold CV, n={pooled['n']} held-out images")
    )
    if args.json:
        atomic_write_json(args.json, pooled)
    if args.plot:
        save_plot(args.plot, pooled)


if __name__ == "__main__":
    main()
