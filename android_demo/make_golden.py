"""Write the golden vectors that the Android core's JVM tests (android_demo/core) compare against.

Run from the repository root with the project's venv, on fp32 TFLite artifacts of the bundled default model::

    .venv/bin/drnet-edge convert --target tflite --out runs/convert/fp32     # lite0-imagenet, fp32
    .venv/bin/python android_demo/make_golden.py --artifacts runs/convert/fp32

For 4 bundled sample photos (short side <= 400 px, so nothing is downscaled before the rule) it writes into
android_demo/core/src/test/resources/golden/:

* <name>.png                      the decoded RGB image (lossless, so JPEG decoders are out of the comparison)
* <name>_<size>.png               the preprocessed uint8 crop at every resolution and at the thumbnail size
* <name>_logits_<R>.f32           backbone logits at every resolution (float32, little-endian)
* manifest.json                   a copy of the artifacts' manifest
* golden.json                     everything else: crop geometry, sha256 of each normalised float32 NCHW
                                  tensor (little-endian bytes), predictor logits and choice, top-5 and max
                                  softmax per resolution, policy decisions, latency-statistics cases (numpy),
                                  synthetic resize cases
* synthetic_*.png                 small random images and their cv2.resize outputs (area, cubic)

Quantised inputs (``golden.json`` "quantized_inputs"): for int8 models the runtimes fill the input tensor
straight from the pixels through a 256-entry table per channel (normalise, then quantise with the input's scale
and zero point: ``drnet_edge.data.preprocess.input_lut``). For the input specs of both int8 TFLite routes and two
more (a uint8 one, one that saturates), the tables and the sha256 of each image's integer NCHW tensor at every
size; ``--quantized-only`` rewrites just that key from the PNGs already in the golden directory.

Policy decisions (``golden.json`` "policies"): for the manifest's default policy for the tflite files when it
carries one (manifest version 2: ``targets.tflite.policy``, calibrated on those files, else the top-level
``policy``), and for test specs whose thresholds are picked from these images' max softmax so that they split
between accepting and escalating (``cascade-160:t-224``, a three-stage cascade, the same two with
``"signal": "margin"`` and thresholds picked from the top-1 minus top-2 softmax margins, ``drnet-escalate:t``,
plus ``drnet`` and ``fixed-128``), the outcome of ``drnet_edge.policy.spec.run_spec`` on the golden logits: top-1,
resolution index answered at, indices run, and each pass's margin. The JVM tests replay them with the Java
``PolicyRunner``. ``--policies-only`` rewrites just that key from the logits already in the golden directory.
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

from drnet_edge.data.folders import sample_dir
from drnet_edge.data.preprocess import (
    Preprocess,
    center_crop_square,
    crop_and_resize,
    input_lut,
    load_image,
    preshrink_factor,
    to_array,
    to_model_input,
)
from drnet_edge.policy.spec import Chain, max_softmax, run_spec, softmax_signals
from drnet_edge.runtime.artifacts import ArtifactDRNet
from drnet_edge.runtime.manifest import Manifest

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "android_demo" / "core" / "src" / "test" / "resources" / "golden"
# Small photos of different shapes: landscape, odd crop side, portrait, and one whose crop (280 px) is more
# than twice 128, so the integer INTER_AREA pre-shrink is exercised at a backbone resolution too (factor 2;
# the 64 px thumbnail gets factors 2 and 3).
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
    return hashlib.sha256(to_array(crop, pre).astype("<f4").tobytes()).hexdigest()


# Input specs of int8 models: litert-torch's PT2E (symmetric, zero point 0) and onnx2tf's full-integer input
# (as both wrote them for lite0-imagenet), TFLite's own EfficientNet-Lite uint8 convention, and one whose
# range is narrower than the normalised pixels (saturates at both ends).
QUANTIZED_SPECS = (
    {"route": "litert", "dtype": "int8", "scale": 0.007839307188987732, "zero_point": 0},
    {"route": "onnx2tf", "dtype": "int8", "scale": 0.007843137718737125, "zero_point": -1},
    {"route": "uint8 (TFLite EfficientNet-Lite)", "dtype": "uint8", "scale": 0.0078125, "zero_point": 128},
    {"route": "saturating", "dtype": "int8", "scale": 0.005, "zero_point": -10},
)


def quantized_cases(pre: Preprocess, crops: dict[str, dict[int, np.ndarray]]) -> dict:
    """The pixel tables of :data:`QUANTIZED_SPECS` and each crop's integer NCHW tensor hash."""
    cases = []
    for spec in QUANTIZED_SPECS:
        lut = input_lut(pre, spec["scale"], spec["zero_point"], spec["dtype"]).reshape(256, 3)
        tensors = {
            f"{stem}_{s}": hashlib.sha256(to_model_input(crop, pre, spec).tobytes()).hexdigest()
            for stem, by_size in crops.items()
            for s, crop in by_size.items()
        }
        cases.append({"spec": spec, "table": [[int(v) for v in lut[:, c]] for c in range(3)], "tensor_sha256": tensors})
    return {
        "rule": "q = clip(round_half_away_from_zero(((v / 255 - mean) / std) / scale) + zero_point) in float32, "
        "per channel (TFLite's QUANTIZE rule); "
        "tensor bytes: the integer NCHW tensor [1, 3, S, S], one byte per value",
        "cases": cases,
    }


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


def split_threshold(values: list[float]) -> float | None:
    """A threshold in (0, 1], as round as possible, strictly between two of ``values`` (at least 1e-4 from
    each) and splitting them as evenly as possible: some images accept, others escalate. None when they
    cannot be split."""
    v = sorted(values)
    n = len(v)
    for i in sorted(range(1, n), key=lambda i: (abs(i - n / 2), v[i - 1] - v[i])):
        lo, hi = v[i - 1], v[i]
        for digits in (2, 3, 4, 5, 6):
            t = round((lo + hi) / 2, digits)
            if lo + 1e-4 < t < hi - 1e-4 and 0.0 < t <= 1.0:
                return t
    return None


def cascade_test_cases(values: dict[str, list[float]], resolutions: list[int], signal: str) -> list[Chain]:
    """Test cascades comparing ``signal`` (its per-image ``values`` at every resolution) with thresholds that
    split the golden images: two stages (``cascade-160:t-224``), split on the signal at 160, and three
    (``cascade-128:t1-160:t2-224``), split at 128 and then among the images still open at 160."""
    k = {r: i for i, r in enumerate(resolutions)}
    asc = sorted(resolutions)  # [128, 160, 192, 224] for the default model
    mid, small, largest = asc[1] if len(asc) > 2 else asc[0], asc[0], asc[-1]
    chains = []
    t = split_threshold([c[k[mid]] for c in values.values()])
    if t is not None:
        chains.append(Chain((mid, largest), (t,), signal))
    t1 = split_threshold([c[k[small]] for c in values.values()]) if len(asc) > 2 else None
    if t1 is not None:
        still_open = [c[k[mid]] for c in values.values() if c[k[small]] < t1]
        t2 = split_threshold(still_open) if len(still_open) > 1 else None
        if t2 is None:
            t2 = 0.5 if not still_open or abs(still_open[0] - 0.5) > 1e-4 else 0.6
        chains.append(Chain((small, mid, largest), (t1, t2), signal))
    return chains


def policy_cases(images: list[dict], logits: dict[str, list[np.ndarray]], resolutions: list[int], manifest_policy):
    """The decisions of the manifest's policy (if any) and of the test specs on the golden images."""
    conf = {img["name"]: [max_softmax(z) for z in logits[img["name"]]] for img in images}
    margin = {img["name"]: [softmax_signals(z)[1] for z in logits[img["name"]]] for img in images}
    choice = {img["name"]: img["predictor"]["choice"] for img in images}
    cases: list[tuple[str, dict, str]] = []
    if manifest_policy:
        cases.append((manifest_policy["name"], manifest_policy["spec"], "manifest"))
    for values, signal in ((conf, "max_softmax"), (margin, "margin")):
        cases += [(chain.name, chain.to_json(), "test") for chain in cascade_test_cases(values, resolutions, signal)]
    # the predictor's choice with escalation: split the images whose choice is not the largest resolution
    chosen_small = [conf[n][choice[n]] for n in conf if choice[n] != 0]
    te = split_threshold(chosen_small) if len(chosen_small) > 1 else None
    if te is None and chosen_small:
        te = round(min(1.0, chosen_small[0] + 0.05), 2) if chosen_small[0] < 0.95 else round(chosen_small[0] / 2, 2)
    if te is not None:
        cases.append((f"drnet-escalate:{te:g}", {"kind": "drnet-escalate", "threshold": te}, "test"))
    cases.append(("drnet", {"kind": "drnet"}, "test"))
    cases.append((f"fixed-{resolutions[-1]}", {"kind": "fixed", "resolution_index": len(resolutions) - 1}, "test"))

    out = []
    for name, spec, source in cases:
        decisions = []
        for img in images:
            z = logits[img["name"]]
            top, final, ran = run_spec(
                spec,
                resolutions,
                lambda i, z=z: (int(np.argmax(z[i])), *softmax_signals(z[i])),
                lambda img=img: img["predictor"]["choice"],
            )
            decisions.append(
                {
                    "image": img["name"],
                    "top1": top,
                    "answered_index": final,
                    "answered_resolution": resolutions[final],
                    "ran": ran,
                    "escalated": len(ran) > 1,
                    "margin": [softmax_signals(z[i])[1] for i in ran],
                }
            )
        out.append({"name": name, "spec": spec, "source": source, "decisions": decisions})
        summary = ", ".join("+".join(str(resolutions[i]) for i in d["ran"]) for d in decisions)
        print(f"policy {name}: ran {summary}")
    return out


def policies_section(images: list[dict], logits: dict[str, list[np.ndarray]], resolutions: list[int], manifest_policy):
    """golden.json's "policies": the rule and the decisions of :func:`policy_cases`."""
    return {
        "manifest_policy": manifest_policy["name"] if manifest_policy else None,
        "rule": "drnet_edge.policy.spec.run_spec on the golden logits; max softmax = 1 / sum(exp(z - max z)) "
        "in float64; margin = top-1 minus top-2 of p = exp(z - max z) / sum(exp(z - max z)) in float64; "
        'a cascade stage accepts when its signal (max softmax, or the margin with "signal": "margin") '
        ">= its threshold; drnet-escalate compares the max softmax",
        "cases": policy_cases(images, logits, resolutions, manifest_policy),
    }


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
    ap.add_argument(
        "--quantized-only", action="store_true", help="only rewrite golden.json's quantized_inputs from the PNGs there"
    )
    ap.add_argument(
        "--policies-only",
        action="store_true",
        help="only rewrite golden.json's policies from the logits and manifest copy there (no model runs)",
    )
    args = ap.parse_args(argv)
    if args.quantized_only:
        return rewrite_quantized(Path(args.out))
    if args.policies_only:
        return rewrite_policies(Path(args.out))

    model = ArtifactDRNet(args.artifacts, "tflite", threads=1)
    m = model.manifest  # drnet_edge.runtime.manifest.Manifest
    tflite = m.target("tflite")
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
    all_crops: dict[str, dict[int, np.ndarray]] = {}
    all_logits: dict[str, list[np.ndarray]] = {}
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
        all_crops[stem] = crops
        entry: dict = {
            "name": stem,
            "source": f"drnet_edge/resources/sample/{path.parent.name}/{path.name}",
            "class_id": path.parent.name,
            "label": m.classes.ids.index(path.parent.name) if path.parent.name in m.classes.ids else -1,
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
                "preshrink_factor": preshrink_factor(side, s),
                "tensor_sha256": tensor_sha256(crops[s], pre),
            }
        x_thumb = to_array(crops[thumb], pre)
        p_logits = np.asarray(model.predictor(x_thumb), dtype=np.float32)[0]
        choice = int(np.argmax(p_logits))
        entry["predictor"] = {
            "input_size": thumb,
            "logits": [float(v) for v in p_logits],
            "choice": choice,
            "resolution": resolutions[choice],
        }
        entry["backbones"] = {}
        all_logits[stem] = []
        for k, r in enumerate(resolutions):
            logits = model.backbone_at(to_array(crops[r], pre), k).astype("<f4")[0]
            logits.tofile(out / f"{stem}_logits_{r}.f32")
            all_logits[stem].append(logits)
            entry["backbones"][str(r)] = {
                "logits": f"{stem}_logits_{r}.f32",
                "top5": top5(logits),
                "max_softmax": max_softmax(logits),
            }
        entry["chosen_top5"] = entry["backbones"][str(resolutions[choice])]["top5"]
        images.append(entry)
        print(f"{stem}: {w}x{h}, crop {side}, choice {resolutions[choice]}, top1 {entry['chosen_top5'][0]}")

    # the policy the app runs on the tflite files: the target's own (calibrated on them) before the checkpoint's
    manifest_policy = m.policy_for("tflite")
    golden = {
        "format": "drnet-edge/android-golden",
        "version": 2,
        "made_by": "android_demo/make_golden.py",
        "artifacts": {
            "source_model": m.source_model,
            "target": "tflite",
            "precision": tflite.precision,
            "files": {k: v.sha256 for k, v in tflite.models.items()},
        },
        "tools": {
            "python": sys.version.split()[0],
            "numpy": np.__version__,
            "opencv": cv2.__version__,
            "opencv_ipp": bool(cv2.ipp.useIPP()),
        },
        "manifest": "manifest.json",
        "manifest_version": m.version,
        "preprocess": pre.to_dict(),
        "resolutions": resolutions,
        "predictor_input": thumb,
        "tensor_bytes": "float32 little-endian, NCHW [1, 3, S, S]: ((x / 255) - mean) / std",
        "images": images,
        "policies": policies_section(images, all_logits, resolutions, manifest_policy),
        "latency_cases": latency_cases(),
        "resize_cases": synthetic_cases(out),
        "quantized_inputs": quantized_cases(pre, all_crops),
    }
    (out / "golden.json").write_text(json.dumps(golden, indent=1) + "\n", encoding="utf-8")
    total = sum(p.stat().st_size for p in out.iterdir())
    print(f"wrote {len(list(out.iterdir()))} files, {total / 1e6:.2f} MB, to {out}")
    return 0


def rewrite_quantized(out: Path) -> int:
    """Recompute ``quantized_inputs`` from the golden directory's own PNG crops (the rest untouched)."""
    path = out / "golden.json"
    golden = json.loads(path.read_text(encoding="utf-8"))
    pre = Preprocess.from_dict(golden["preprocess"])
    crops = {
        im["name"]: {int(s): load_image(out / e["png"]) for s, e in im["sizes"].items()} for im in golden["images"]
    }
    golden["quantized_inputs"] = quantized_cases(pre, crops)
    path.write_text(json.dumps(golden, indent=1) + "\n", encoding="utf-8")
    print(f"rewrote quantized_inputs ({len(QUANTIZED_SPECS)} specs) in {path}")
    return 0


def rewrite_policies(out: Path) -> int:
    """Recompute ``policies`` from the golden directory's own backbone logits (``.f32``), predictor choices and
    manifest copy (the rest untouched; no model runs)."""
    path = out / "golden.json"
    golden = json.loads(path.read_text(encoding="utf-8"))
    resolutions = golden["resolutions"]
    logits = {
        im["name"]: [np.fromfile(out / im["backbones"][str(r)]["logits"], dtype="<f4") for r in resolutions]
        for im in golden["images"]
    }
    manifest = Manifest.from_json(json.loads((out / golden["manifest"]).read_text(encoding="utf-8")))
    golden["policies"] = policies_section(golden["images"], logits, resolutions, manifest.policy_for("tflite"))
    path.write_text(json.dumps(golden, indent=1) + "\n", encoding="utf-8")
    print(f"rewrote policies ({len(golden['policies']['cases'])} cases) in {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
