"""The own-data journey of docs/own-data.md on a tiny folder, through the CLI as a user types it: two
classes with human names, a few photos, small resolutions; train (no mode flag: joint is picked) with a
closing summary -> calibrate -> convert to TFLite int8 (litert route) with the policy calibrated on the
converted files -> eval of the int8 files -> local bench. Photos are random pixels: this checks that
every step runs, hands the next one what it needs and says what it should, not accuracy."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from drnet_edge.cli import app
from drnet_edge.runtime.manifest import read_manifest

from .conftest import write_image

runner = CliRunner()
CLASSES = ("beagle", "golden_retriever")


@pytest.fixture(autouse=True)
def _no_env_leak(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI's quiet defaults set this for TensorFlow; keep it out of the other tests' environment."""
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2"))


def photos(root: Path, per_class: int, seed: int) -> Path:
    for c, name in enumerate(CLASSES):
        for i in range(per_class):
            write_image(root / name / f"{name}_{i}.jpg", size=(80, 96), seed=seed + 100 * c + i)
    return root


def cli(*args: str) -> str:
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, f"{' '.join(args[:1])}: exit {result.exit_code}\n{result.output[-3000:]}"
    return result.output


def test_own_photos_to_a_calibrated_int8_model_and_a_bench(tmp_path: Path) -> None:
    train, calib, val = (
        photos(tmp_path / s, n, seed) for s, n, seed in (("train", 6, 0), ("calib", 4, 1000), ("val", 4, 2000))
    )
    ckpt, cal, art = tmp_path / "dogs.pt", tmp_path / "dogs-cal.pt", tmp_path / "dogs-tflite"
    small = ("--resolutions", "64,48", "--thumb-size", "32", "--batch-size", "4", "--workers", "0")

    out = cli("train", "--data", train, "--out", ckpt, "--epochs", "2", *small, "--val", val)
    assert "training --mode joint" in out and "--mode plain" in out  # the mode it picked, and the baseline's
    assert "epoch 2/2 [joint]" in out
    for said in ("trained 2 epochs (joint)", f"top-1 on 8 photos of {val}", "64 px", "48 px", "the predictor's mix",
                 f"checkpoint: {ckpt}", "next: ", "drnet-edge calibrate"):  # fmt: skip
        assert said in out, said
    report = json.loads(Path(f"{ckpt}.val.json").read_text())
    assert report["n"] == 8 and {"fixed-64", "fixed-48", "drnet", "random"} <= set(report["policies"])

    cli(
        "calibrate",
        "--model",
        ckpt,
        "--data",
        calib,
        "--target-ratio",
        "0.8",
        "--min-photos",
        "0",
        "--out",
        cal,
        "--quiet",
    )
    out = cli("convert", "--model", cal, "--target", "tflite", "--int8", "--via", "litert", "--quant-data", train,
              "--quant-count", "8", "--policy-data", calib, "--min-photos", "0", "--out", art)  # fmt: skip
    policy = read_manifest(art).policy_for("tflite")
    assert policy and policy["calibration"]["source"]["precision"] == "int8"  # calibrated on what ships

    out = cli(
        "eval", "--artifacts", art, "--runtime", "tflite", "--data", val, "--quiet", "--json", tmp_path / "e.json"
    )
    evaluated = json.loads((tmp_path / "e.json").read_text())
    assert evaluated["precision"] == "int8" and evaluated["n"] == 8
    assert evaluated["default_policy"] in evaluated["policies"]

    out = cli("predict", "--artifacts", art, val, "--top", "2", "--quiet", "--json", tmp_path / "p.json")
    predicted = json.loads((tmp_path / "p.json").read_text())
    assert predicted["policy"] == evaluated["default_policy"] and predicted["summary"]["photos"] == 8
    right = [Path(p["path"]).parent.name == p["top"][0]["id"] for p in predicted["photos"]]
    assert sum(right) / 8 == pytest.approx(evaluated["policies"][evaluated["default_policy"]]["top1"])  # same answers
    assert all(len(p["top"]) == 2 and p["ran"][-1] == p["answered_at"] for p in predicted["photos"])

    out = cli("bench", "--artifacts", art, "--data", val, "--runs", "3", "--warmup", "1", "--quiet",
              "--json", tmp_path / "b.json")  # fmt: skip
    bench = json.loads((tmp_path / "b.json").read_text())
    assert bench["models"] and bench.get("policies")


def test_own_plain_fine_tune_as_the_cascade_s_largest_pass(tmp_path: Path) -> None:
    """docs/own-data.md's plain fine-tune as the DRNet's largest pass (``convert --pass-from``), through
    the CLI: the folder's fixed-64 answers as the plain checkpoint does, and its eval names the source."""
    train, val = photos(tmp_path / "train", 6, 0), photos(tmp_path / "val", 4, 2000)
    ckpt, base, art = tmp_path / "dogs.pt", tmp_path / "dogs-base.pt", tmp_path / "dogs-hybrid"
    small = ("--resolutions", "64,48", "--batch-size", "4", "--workers", "0", "--quiet")
    cli("train", "--data", train, "--out", ckpt, "--epochs", "1", "--thumb-size", "32", *small)
    cli("train", "--data", train, "--out", base, "--mode", "plain", "--epochs", "1", *small)
    cli("convert", "--model", ckpt, "--pass-from", f"64={base}", "--target", "onnx", "--quant-data", train,
              "--quant-count", "4", "--out", art)  # fmt: skip
    passes = read_manifest(art).passes
    assert passes and passes["64"]["model"] == str(base) and len(passes["64"]["sha256"]) == 64
    cli("eval", "--artifacts", art, "--data", val, "--quiet", "--json", tmp_path / "h.json")
    cli("eval", "--model", base, "--data", val, "--quiet", "--json", tmp_path / "b.json")
    hybrid, plain = (json.loads((tmp_path / f).read_text()) for f in ("h.json", "b.json"))
    assert hybrid["policies"]["fixed-64"]["top1"] == plain["policies"]["fixed-64"]["top1"]
    assert hybrid["passes"]["64"]["model"] == str(base)
