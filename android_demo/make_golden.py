"""Write the golden vectors that the Android core's JVM tests (android_demo/core) compare against.

Run from the repository root with the project's venv::

    .venv/bin/python android_demo/make_golden.py --artifacts runs/convert/fp32

For 4 bundled sample photos (short side <= 400 px, so nothing is downscaled before the rule) it writes into
android_demo/core/src/test/resources/golden/:

* <name>.png                      the decoded RGB image (lossless, so JPEG decoders are out of the comparison)
* <name>_<size>.png               the preprocessed uint8 crop at every resolution and at the thumbnail size
* <name>_logits_<R>.f32           backbone logits at every resolution (float32, little-endian)
* manifest.json                   a copy of the artifacts' manifest
* golden.json                     everything else: crop geometry, sha256 of each normalised float32 NCHW
                                  tensor (little-endian bytes), predictor logits and choice, top-5 per
                                  resolution, latency-statistics cases (numpy), synthetic resize cases
* synthetic_*.png                 small random images and their cv2.resize outputs (area, cubic)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
from pathlib import Path

import cv2
import numpy as np

from drnet_edge.data import sample_dir
from drnet_edge.preprocess import (
    Preprocess,
    center_crop_square,
    crop_and_resize,
    load_image,
    to_tensor,
)
from drnet_edge.runtime import ArtifactDRNet

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "android_demo" / "core" / "src" / "test" / "resources" / "golden"
# Small photos of different shapes: landscape, odd crop side, portrait, and one whose crop (280 px) is more
# than twice 128, so the INTER_AREA pre-shrink is exercised at a backbone resolution too.
DEFAULT_IMAGES = (
    "n02102177_Welsh_springer_spaniel.JPEG",
    "n02815834_beaker.JPEG",
    "n04591157_Windsor_tie.JPEG",
    "n01440764_tench.JPEG",
)
MAX_SHORT_SIDE = 400
PNG = [cv2.IMWRITE_PNG_COMPRESSION, 9]


def tensor_sha256(crop: np.ndarray, pre: Preprocess) -> str:
    """sha256 of the normalised float32 NCHW tensor's little-endian bytes."""
    return hashlib.sha256(to_tensor(crop, pre).numpy().astype("<f4").tobytes()).hexdigest()


def write_png(path: Path, rgb: np.ndarray) -> None:
    if not cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), PNG):
        raise SystemExit(f"could not write {path}")


def top5(logits: np.ndarray) -> list[list[float | int]]:
    order = np.argsort(-logits, kind="stable")[:5]
    return [[int(i), float(logits[i])] for i in order]


def latency_cases() -> list[dict]:
    rng = np.random.default_rng(6)
    lists = [
        rng.lognormal(3.0, 0.4, 37).round(6).tolist(),
        rng.uniform(5, 9, 200).tolist(),
        [12.5],
        [3.0, 1.0],
        [4.0, 4.0, 4.0, 10.0, 1.0, 4.0],
    ]
    out = []
    for values in lists:
        x = np.asarray(values, dtype=np.float64)
        out.append(
            {
                "values": [float(v) for v in x],
                "mean": float(np.mean(x)),
                "p50": float(np.percentile(x, 50)),
                "p90": float(np.percentile(x, 90)),
                "p99": float(np.percentile(x, 99)),
                "std": float(np.std(x)),
            }
        )
    return out


def synthetic_cases(out: Path) -> list[dict]:
    """Direct cv2.resize calls on small random images: area (fractional, 2x and 3x integer) and cubic."""
    rng = np.random.default_rng(66)
    specs = [
        ((50, 60), (20, 17), "area"),
        ((48, 48), (24, 24), "area"),
        ((48, 48), (16, 16), "area"),
        ((57, 57), (32, 32), "area"),
        ((61, 61), (40, 40), "cubic"),
        ((40, 56), (33, 21), "cubic"),
        ((23, 23), (48, 48), "cubic"),
    ]
    cases = []
    for i, ((h, w), (dw, dh), interp) in enumerate(specs):
        src = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        flag = cv2.INTER_AREA if interp == "area" else cv2.INTER_CUBIC
        dst = cv2.resize(src, (dw, dh), interpolation=flag)
        a, b = f"synthetic_{i}_in.png", f"synthetic_{i}_{interp}_{dw}x{dh}.png"
        write_png(out / a, src)
        write_png(out / b, dst)
        cases.append({"input": a, "output": b, "interpolation": interp, "width": dw, "height": dh})
    return cases


def find_sample(name: str) -> Path:
    path = sample_dir() / name.split("_", 1)[0] / name
    if not path.is_file():
        raise SystemExit(f"sample image {path} not found")
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--artifacts", default="runs/convert/fp32", help="converted artifact dir with tflite models")
    ap.add_argument("--out", default=str(DEFAULT_OUT), help="golden directory (replaced)")
    ap.add_argument("--images", nargs="*", default=list(DEFAULT_IMAGES), help="sample file names")
    args = ap.parse_args(argv)

    model = ArtifactDRNet(args.artifacts, "tflite", threads=1)
    m = model.manifest
    if model.predictor is None:
        raise SystemExit(f"{args.artifacts} holds no predictor; golden vectors need the full DRNet")
    pre = model.preprocess
    resolutions = list(model.resolutions)
    thumb = int(model.thumb_size)
    sizes = [*resolutions, thumb]

    out = Path(args.out)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    shutil.copyfile(Path(args.artifacts) / "manifest.json", out / "manifest.json")

    images = []
    for name in args.images:
        path = find_sample(name)
        img = load_image(path)
        h, w = img.shape[:2]
        if min(h, w) > MAX_SHORT_SIDE:
            raise SystemExit(f"{name} is {w}x{h}: pick images with a short side <= {MAX_SHORT_SIDE} px")
        stem = path.stem
        write_png(out / f"{stem}.png", img)
        side = center_crop_square(img, pre.crop_pct).shape[0]
        crops = crop_and_resize(img, sizes, pre)
        entry: dict = {
            "name": stem,
            "source": f"drnet_edge/resources/sample/{path.parent.name}/{path.name}",
            "class_id": path.parent.name,
            "label": m["classes"]["ids"].index(path.parent.name) if path.parent.name in m["classes"]["ids"] else -1,
            "decoded": f"{stem}.png",
            "width": w,
            "height": h,
            "crop": {"side": side, "top": (h - side) // 2, "left": (w - side) // 2},
            "sizes": {},
        }
        for s in sizes:
            write_png(out / f"{stem}_{s}.png", crops[s])
            entry["sizes"][str(s)] = {
                "png": f"{stem}_{s}.png",
                "area_preshrink": side > 2 * s,
                "tensor_sha256": tensor_sha256(crops[s], pre),
            }
        x_thumb = to_tensor(crops[thumb], pre)
        p_logits = np.asarray(model.predictor(x_thumb.numpy()), dtype=np.float32)[0]
        choice = int(np.argmax(p_logits))
        entry["predictor"] = {
            "input_size": thumb,
            "logits": [float(v) for v in p_logits],
            "choice": choice,
            "resolution": resolutions[choice],
        }
        entry["backbones"] = {}
        for k, r in enumerate(resolutions):
            logits = model.backbone_at(to_tensor(crops[r], pre), k).numpy().astype("<f4")[0]
            logits.tofile(out / f"{stem}_logits_{r}.f32")
            entry["backbones"][str(r)] = {"logits": f"{stem}_logits_{r}.f32", "top5": top5(logits)}
        entry["chosen_top5"] = entry["backbones"][str(resolutions[choice])]["top5"]
        images.append(entry)
        print(f"{stem}: {w}x{h}, crop {side}, choice {resolutions[choice]}, top1 {entry['chosen_top5'][0]}")

    golden = {
        "format": "drnet-edge/android-golden",
        "version": 1,
        "made_by": "android_demo/make_golden.py",
        "artifacts": {
            "source_model": m.get("source_model"),
            "target": "tflite",
            "precision": m["targets"]["tflite"]["precision"],
            "files": {k: v["sha256"] for k, v in m["targets"]["tflite"]["models"].items()},
        },
        "tools": {
            "python": sys.version.split()[0],
            "numpy": np.__version__,
            "opencv": cv2.__version__,
            "opencv_ipp": bool(cv2.ipp.useIPP()),
        },
        "manifest": "manifest.json",
        "preprocess": pre.to_dict(),
        "resolutions": resolutions,
        "predictor_input": thumb,
        "tensor_bytes": "float32 little-endian, NCHW [1, 3, S, S]: ((x / 255) - mean) / std",
        "images": images,
        "latency_cases": latency_cases(),
        "resize_cases": synthetic_cases(out),
    }
    (out / "golden.json").write_text(json.dumps(golden, indent=1) + "\n", encoding="utf-8")
    total = sum(p.stat().st_size for p in out.iterdir())
    print(f"wrote {len(list(out.iterdir()))} files, {total / 1e6:.2f} MB, to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
