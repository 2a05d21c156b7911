"""The held-out Imagewoof fold (test:0/5) as a folder of symbolic links, for
benchmarks/probes/cv_imagewoof_predictor.sh to split again into its own five folds. Each link is renamed
(``cv-<name>``): under the same relative paths every photo would hash to fold 0 again.

    .venv/bin/python benchmarks/release/cv_imagewoof_holdout_links.py ../shared/data/imagewoof-train-3k runs/cv/holdout.tmp
"""

from __future__ import annotations

import argparse
from pathlib import Path

from drnet_edge import scan_folder


def link_holdout(src: Path, dst: Path, subset: str = "test:0/5") -> int:
    src = src.resolve()
    paths = scan_folder(src, subset=subset).paths
    for p in paths:
        target = Path(p).resolve()
        rel = target.relative_to(src)
        link = dst / rel.parent / f"cv-{rel.name}"
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(target)
    return len(paths)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("src", type=Path, help="the Imagewoof folder")
    ap.add_argument("dst", type=Path, help="the folder of links to create")
    ap.add_argument("--subset", default="test:0/5", help="which photos to link (default: the held-out fold)")
    args = ap.parse_args()
    link_holdout(args.src, args.dst, args.subset)


if __name__ == "__main__":
    main()
