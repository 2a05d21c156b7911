"""A policy calibrated on converted files: ``calibrate --artifacts`` rewrites only the manifest, every
runner reads the target's own policy, ``convert --policy-data`` does the same as its last step, and
``parity.json`` says how often the files' decisions match PyTorch's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from drnet_edge._io import sha256_file
from drnet_edge.calibrate import calibrate
from drnet_edge.convert import convert
from drnet_edge.policy.deploy import default_spec
from drnet_edge.runtime.artifacts import ArtifactDRNet
from drnet_edge.runtime.manifest import read_manifest, verify_artifacts
from drnet_edge.verify.score import policies_for

from .conftest import run_cli

SMALL = {"min_photos": 10, "folds": 2, "progress": False}


@pytest.fixture(scope="module")
def converted(tiny_converted) -> Path:
    """The tiny DRNet converted for ONNX (shared: the tests write to copies or to new folders only)."""
    return tiny_converted("onnx")[0]


def hashes(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): sha256_file(p) for p in sorted(root.rglob("*")) if p.is_file()}


def test_calibrate_on_artifacts_rewrites_only_the_manifest_and_every_runner_reads_it(
    converted: Path, tiny, tmp_path: Path
) -> None:
    _, data = tiny
    copy = tmp_path / "copy"
    before = hashes(converted)
    res = calibrate(None, str(data), str(copy), artifacts=str(converted), runtime="onnx", target_ratio=0.8, **SMALL)
    assert hashes(converted) == before, "--out writes a copy; the source directory is untouched"
    after = hashes(copy)
    assert {k for k in after if after[k] != before.get(k)} == {"manifest.json"}
    rec = res.record
    assert rec["calibration"]["source"] == {"artifacts": str(converted), "runtime": "onnx", "route": "default",
                                            "precision": "fp32"}  # fmt: skip
    m = verify_artifacts(copy, "onnx")  # model files still match their checksums
    assert m.target("onnx").policy == rec and m.policy_for("onnx") == rec and m.version == 2
    art = ArtifactDRNet(copy, "onnx")
    assert art.default_policy == rec["name"]
    assert default_spec(art) == (rec["name"], rec["spec"])
    pols = policies_for(m, m.target("onnx"))
    assert rec["name"] in {p.name for p in pols}

    calibrate(None, str(data), None, artifacts=str(copy), runtime="onnx", max_drop=5.0, **SMALL)  # in place
    assert read_manifest(copy).target("onnx").policy["calibration"]["objective"]["max_drop_pts"] == 5.0
    assert {k for k, v in hashes(copy).items() if v != after[k]} == {"manifest.json"}


def test_calibrate_artifacts_command(converted: Path, tiny, tmp_path: Path) -> None:
    _, data = tiny
    out, js = tmp_path / "cal", tmp_path / "cal.json"
    run = lambda *a: run_cli("calibrate", "--quiet", *a)  # noqa: E731  (in-process; test_calibrate runs the entry point)
    p = run("--artifacts", str(converted), "--runtime", "onnx", "--data", str(data), "--out", str(out),
            "--target-ratio", "0.8", "--min-photos", "10", "--folds", "2", "--json", str(js))  # fmt: skip
    assert p.returncode == 0, p.stderr
    assert "policy recorded for onnx" in p.stdout
    assert read_manifest(out).policy_for("onnx")["name"] == json.loads(js.read_text())["name"]
    p = run("--artifacts", str(converted), "--model", "lite0-imagenet", "--runtime", "onnx", "--data", str(data))
    assert p.returncode == 2 and "--artifacts already fix the model: drop --model" in p.stderr
    p = run("--artifacts", str(converted), "--runtime", "onnx", "--data", str(data), "--out", str(converted))
    assert p.returncode == 2 and "drop --out" in p.stderr


def test_convert_policy_data_calibrates_each_target_and_parity_reports_agreement(tiny, tmp_path: Path) -> None:
    ckpt, data = tiny
    out = tmp_path / "art"
    lines: list[str] = []
    parity = convert(ckpt, targets=["onnx"], out=out, quant_data=data, quant_count=4, policy_data=data,
                     policy_objective={"target_ratio": 0.8}, policy_min_photos=5, log=lines.append)  # fmt: skip
    pol = read_manifest(out).target("onnx").policy
    assert pol is not None and pol["calibration"]["source"]["runtime"] == "onnx"
    assert "(--subset train:0/5)" in pol["calibration"]["data"], "the held-aside fifth never calibrates the policy"
    agree = parity["policy"]["onnx"]
    assert agree["policy"] == pol["name"] and agree["n"] >= 1
    assert agree["decisions_agree"] == pytest.approx(1.0)  # fp32 files decide as PyTorch does
    assert agree["moved"] is None and any("too few photos" in m for m in lines)
    assert json.loads((out / "parity.json").read_text())["policy"]["onnx"]["policy"] == pol["name"]
