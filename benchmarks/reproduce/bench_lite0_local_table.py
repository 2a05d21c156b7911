"""The table of benchmarks/reproduce/bench_lite0_local.sh: every ``bench_local_*.json`` report in a folder as one
markdown table (latency and MACs as ratios against fixed-224 of the same run), printed.

    .venv/bin/python benchmarks/reproduce/bench_lite0_local_table.py benchmarks/results
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def table(out: Path) -> str:
    reports = sorted(out.glob("bench_local_*.json"))
    if not reports:
        raise SystemExit(f"no bench_local_*.json in {out}")
    lines = [
        "| runtime | precision | policy | top-1 | latency ms (mean) | p90 ms | vs fixed-224 | MACs vs fixed-224 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for f in reports:
        r = json.loads(f.read_text())
        route = " (onnx2tf)" if "onnx2tf" in f.name else ""
        for name, p in r["policies"].items():
            lines.append(
                f"| {r['runtime']}{route} | {r['precision']} | {name} | {100 * p['top1']:.1f}% | {p['latency_ms']:.2f} | "
                f"{p['latency_p90_ms']:.2f} | {p['latency_vs_ref']:.2f}x | {p['macs_vs_ref']:.2f}x |"
            )
    r = json.loads(reports[0].read_text())
    lines.append(
        f"\nn={r['n']} images ({r['data']}, subset {r['subset']}); {r['device']['cpu']}, {r['threads']} threads; "
        f"energy: {r['energy']['note']}"
    )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=Path, help="folder holding the bench_local_*.json reports")
    print(table(ap.parse_args().out))


if __name__ == "__main__":
    main()
