"""make deploy-check's verdict: the deploy-side install (no PyTorch) answered as the full install did.

Compares ``<out>/full-*.json`` with ``<out>/deploy-*.json``: predict (class, resolutions run and answered
per photo), eval (top-1 and resolution shares per policy) and the bench (top-1 per policy)."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def load(out: Path, side: str, what: str) -> dict:
    return json.loads((out / f"{side}-{what}.json").read_text())


def differences(out: Path) -> list[str]:
    """Every disagreement between the two installs, as lines (empty: they agree)."""
    diffs: list[str] = []
    full, dep = load(out, "full", "predict"), load(out, "deploy", "predict")
    answers = {p["path"]: (p["top"][0]["id"], p["ran"], p["answered_at"]) for p in full["photos"]}
    for p in dep["photos"]:
        mine = (p["top"][0]["id"], p["ran"], p["answered_at"])
        if answers.get(p["path"]) != mine:
            diffs.append(f"predict {p['path']}: full {answers.get(p['path'])}, deploy {mine}")
    if len(dep["photos"]) != len(full["photos"]):
        diffs.append(f"predict: {len(full['photos'])} photos (full) against {len(dep['photos'])} (deploy)")
    for what, keys in (("eval", ("top1", "resolution_share")), ("bench", ("top1",))):
        f, d = load(out, "full", what)["policies"], load(out, "deploy", what)["policies"]
        if set(f) != set(d):
            diffs.append(f"{what}: policies {sorted(f)} (full) against {sorted(d)} (deploy)")
        for name in set(f) & set(d):
            for key in keys:
                if f[name][key] != d[name][key]:
                    diffs.append(f"{what} {name} {key}: full {f[name][key]}, deploy {d[name][key]}")
    return diffs


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "out/deploy")
    diffs = differences(out)
    n = len(load(out, "deploy", "predict")["photos"])
    if diffs:
        print(f"deploy-check FAILED: {len(diffs)} differences", *diffs[:20], sep="\n")
        return 1
    print(f"deploy-check passed: without torch, predict ({n} photos), eval and bench answered as the full install")
    return 0


if __name__ == "__main__":
    sys.exit(main())
