"""The Android core's golden vectors (android_demo/core/src/test/resources/golden) still describe Python's
preprocessing (same crops from the same decoded PNGs, same normalised-tensor sha256) and Python's policy rule
(``drnet_edge.policy.spec.run_spec`` on the golden logits gives the recorded decisions). If this fails, the
preprocessing or the rule changed: regenerate with ``.venv/bin/python android_demo/make_golden.py`` and rerun
``android_demo/run-jvm-tests.sh`` so the app follows."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest

from drnet_edge.data.preprocess import (
    Preprocess,
    center_crop_square,
    crop_and_resize,
    input_lut,
    load_image,
    to_model_input,
    to_tensor,
)
from drnet_edge.policy.spec import max_softmax, run_spec, softmax_signals
from drnet_edge.runtime.manifest import Manifest

REPO = Path(__file__).resolve().parents[1]
GOLDEN = REPO / "android_demo" / "core" / "src" / "test" / "resources" / "golden"
JUNIT_JAR = Path("/usr/share/java/junit-platform-console-standalone.jar")

pytestmark = pytest.mark.skipif(not (GOLDEN / "golden.json").is_file(), reason=f"no golden vectors at {GOLDEN}")


@pytest.fixture(scope="module")
def golden() -> dict:
    return json.loads((GOLDEN / "golden.json").read_text(encoding="utf-8"))


def read_png(name: str) -> np.ndarray:
    return load_image(GOLDEN / name)


def test_manifest_copy_matches_golden_preprocess(golden: dict) -> None:
    manifest = json.loads((GOLDEN / golden["manifest"]).read_text(encoding="utf-8"))
    assert Preprocess.from_dict(manifest["preprocess"]) == Preprocess.from_dict(golden["preprocess"])
    assert manifest["resolutions"] == golden["resolutions"]
    assert manifest["predictor_input"] == golden["predictor_input"]


def test_manifest_copy_is_readable_by_python(golden: dict) -> None:
    manifest = Manifest.from_json(json.loads((GOLDEN / golden["manifest"]).read_text(encoding="utf-8")))
    assert manifest.version == golden["manifest_version"]
    tflite = manifest.target("tflite")
    assert {k: v.sha256 for k, v in tflite.models.items()} == golden["artifacts"]["files"]
    assert [b.input_size for b in tflite.backbones()] == manifest.resolutions
    assert (manifest.policy_for("tflite") or {}).get("name") == golden["policies"]["manifest_policy"]


def test_python_policy_rule_reproduces_golden_decisions(golden: dict) -> None:
    resolutions = golden["resolutions"]
    images = {img["name"]: img for img in golden["images"]}
    logits = {
        name: [np.fromfile(GOLDEN / img["backbones"][str(r)]["logits"], dtype="<f4") for r in resolutions]
        for name, img in images.items()
    }
    for name, img in images.items():
        for r, z in zip(resolutions, logits[name], strict=True):
            assert max_softmax(z) == img["backbones"][str(r)]["max_softmax"], f"{name}@{r}"
    cases = golden["policies"]["cases"]
    assert {c["spec"]["kind"] for c in cases} >= {"cascade", "drnet-escalate", "drnet", "fixed"}
    outcomes = set()
    for case in cases:
        for d in case["decisions"]:
            z, choice = logits[d["image"]], images[d["image"]]["predictor"]["choice"]
            top, final, ran = run_spec(
                case["spec"],
                resolutions,
                lambda k, z=z: (int(np.argmax(z[k])), *softmax_signals(z[k])),
                lambda c=choice: c,
            )
            assert (top, final, ran) == (d["top1"], d["answered_index"], d["ran"]), f"{case['name']} on {d['image']}"
            if case["spec"]["kind"] in ("cascade", "drnet-escalate"):
                outcomes.add(len(ran) > 1)
    assert outcomes == {True, False}, "the test thresholds should split the images between accepting and escalating"


def test_python_preprocessing_reproduces_golden_crops_and_tensors(golden: dict) -> None:
    pre = Preprocess.from_dict(golden["preprocess"])
    assert len(golden["images"]) == 4
    for img in golden["images"]:
        decoded = read_png(img["decoded"])
        assert decoded.shape == (img["height"], img["width"], 3)
        assert center_crop_square(decoded, pre.crop_pct).shape[0] == img["crop"]["side"]
        sizes = [int(s) for s in img["sizes"]]
        crops = crop_and_resize(decoded, sizes, pre)
        for s in sizes:
            entry = img["sizes"][str(s)]
            expected = read_png(entry["png"])
            assert np.array_equal(crops[s], expected), f"{img['name']} at {s}: Python's crop differs from golden"
            for crop, what in ((crops[s], "Python crop"), (expected, "golden crop")):
                digest = hashlib.sha256(to_tensor(crop, pre).numpy().astype("<f4").tobytes()).hexdigest()
                assert digest == entry["tensor_sha256"], f"{img['name']} at {s}: {what} tensor sha256 differs"


def test_synthetic_resize_cases_still_match_cv2(golden: dict) -> None:
    flags = {"area": cv2.INTER_AREA, "cubic": cv2.INTER_CUBIC}
    for case in golden["resize_cases"]:
        src = read_png(case["input"])
        out = cv2.resize(src, (case["width"], case["height"]), interpolation=flags[case["interpolation"]])
        assert np.array_equal(out, read_png(case["output"])), case["output"]


def test_python_pixel_tables_reproduce_golden_quantized_inputs(golden: dict) -> None:
    """int8 inputs straight from the pixels: the tables and the integer tensors the Java core is held to."""
    pre = Preprocess.from_dict(golden["preprocess"])
    cases = golden["quantized_inputs"]["cases"]
    assert {c["spec"]["route"] for c in cases} >= {"litert", "onnx2tf"}
    for case in cases:
        spec = case["spec"]
        lut = input_lut(pre, spec["scale"], spec["zero_point"], spec["dtype"]).reshape(256, 3)
        assert [[int(v) for v in lut[:, c]] for c in range(3)] == case["table"], spec
        for img in golden["images"]:
            for s, entry in img["sizes"].items():
                q = to_model_input(read_png(entry["png"]), pre, spec)
                assert hashlib.sha256(q.tobytes()).hexdigest() == case["tensor_sha256"][f"{img['name']}_{s}"]


def test_golden_stays_small() -> None:
    assert sum(p.stat().st_size for p in GOLDEN.iterdir()) < 1_600_000


@pytest.mark.slow
@pytest.mark.skipif(
    shutil.which("java") is None or shutil.which("javac") is None or not JUNIT_JAR.is_file(),
    reason="needs a JDK and the JUnit console launcher",
)
def test_jvm_core_tests_pass() -> None:
    proc = subprocess.run(
        ["bash", str(REPO / "android_demo" / "run-jvm-tests.sh")], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
