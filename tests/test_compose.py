"""``convert --pass-from RES=MODEL``: a converted DRNet with a pass taken from another checkpoint (the
"hybrid" of RESULTS 6c), refused before any work when the two do not fit, and held to PyTorch."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from drnet_edge._io import sha256_file
from drnet_edge.cli.conversion import parse_pass_from
from drnet_edge.convert import convert
from drnet_edge.data.classes import ClassList
from drnet_edge.errors import ConfigError
from drnet_edge.models.backbones import TF_LITE_PREPROCESS, create_backbone
from drnet_edge.models.checkpoint import load_model, make_checkpoint, save_checkpoint
from drnet_edge.models.compose import compose
from drnet_edge.models.drnet import DRNet
from drnet_edge.runtime.source import ModelSource, open_model

from .conftest import CLASSES, randomise_batchnorm, run_cli


def load(res: int, src: str | Path) -> tuple:
    """What ``convert`` hands ``compose`` to load a checkpoint: its model and classes."""
    return load_model(src)[:2]


@pytest.fixture(scope="module")
def donor(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A plain model (no predictor, one resolution, 64 px) of the tiny DRNet's graph, classes and
    preprocessing, with other weights: the tiny case of ``lite0-imagewoof-base``."""
    torch.manual_seed(1)
    backbone = create_backbone("resnet10t", pretrained=False, num_classes=3)
    randomise_batchnorm(backbone, seed=1)
    net = DRNet(backbone.eval(), [64], None, TF_LITE_PREPROCESS, backbone_name="resnet10t")
    path = tmp_path_factory.mktemp("donor") / "base.pt"
    return save_checkpoint(path, make_checkpoint(net, ClassList(CLASSES, CLASSES, "test"), include_backbone=True))


@pytest.mark.parametrize(
    "specs, message",
    [
        (["224"], "write RES=MODEL"),
        (["x=lite0-imagewoof-base"], "write RES=MODEL"),
        (["224="], "write RES=MODEL"),
        (["224=a", "224=b"], "224 px is named twice"),
    ],
)
def test_pass_from_spec_errors_name_the_flag(specs: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=message) as e:
        parse_pass_from(specs)
    assert "--pass-from" in str(e.value)


def test_pass_from_spec() -> None:
    assert parse_pass_from(["224=lite0-imagewoof-base", "160 = runs/x.pt"]) == {
        224: "lite0-imagewoof-base",
        160: "runs/x.pt",
    }
    assert parse_pass_from(None) == {}


def test_refused_when_the_pass_does_not_fit(tiny, donor: Path, tiny_checkpoints) -> None:
    net, classes, _ = load_model(tiny[0])
    with pytest.raises(ConfigError, match=r"--pass-from 32=.*32 px is not one of the model's resolutions"):
        compose(net, classes, {32: donor}, load)
    never = lambda r, s: pytest.fail("a checkpoint loaded before the resolution check")  # noqa: E731
    with pytest.raises(ConfigError, match="32 px is not one of the model's resolutions"):
        compose(net, classes, {32: "any.pt"}, never)
    with pytest.raises(ConfigError, match=r"--pass-from 48=.*has no 48 px pass \(it has \[64\]\)"):
        compose(net, classes, {48: donor}, load)
    with pytest.raises(ConfigError, match="same backbone graph"):
        compose(net, classes, {64: tiny_checkpoints("mobilenet_v2", predictor=False)}, load)


def test_bundled_models_with_other_classes_are_refused() -> None:
    net, classes, _ = load_model("lite0-imagewoof")
    with pytest.raises(ConfigError, match=r"224=lite0-imagenet: that checkpoint has other classes \(1000\)"):
        compose(net, classes, {224: "lite0-imagenet"}, load)
    composed, record = compose(net, classes, {224: "lite0-imagewoof-base"}, load)
    assert record["224"]["model"] == "lite0-imagewoof-base" and len(record["224"]["sha256"]) == 64
    x = torch.randn(2, 3, 128, 128)
    assert torch.equal(composed.backbone_at(x, 3), net.backbone_at(x, 3))  # the DRNet's own small pass


def test_converted_folder_runs_the_borrowed_pass(tiny, donor: Path, tmp_path: Path) -> None:
    """The 64 px file is the donor's, the 48 px file and the predictor the DRNet's; the manifest names
    the donor and its sha256; the files' policy decisions match the composed PyTorch model's."""
    ckpt, data = tiny
    out = tmp_path / "art"
    parity = convert(ckpt, targets=["onnx"], out=out, quant_data=data, quant_count=4, passes={64: donor},
                     log=lambda m: None)  # fmt: skip
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["passes"] == {"64": {"model": str(donor), "sha256": sha256_file(donor)}}
    assert manifest["source_model"] == str(ckpt)
    assert parity["policy"]["onnx"]["decisions_agree"] == 1.0
    art, _ = open_model(ModelSource(artifacts=out, runtime="onnx"))
    own, base = load_model(ckpt)[0], load_model(donor)[0]
    x = {r: torch.randn(3, 3, r, r, generator=torch.Generator().manual_seed(r)) for r in (64, 48)}
    with torch.no_grad():
        np.testing.assert_allclose(art.backbone_at(x[64].numpy(), 0), base.backbone_at(x[64], 0), atol=1e-3)
        np.testing.assert_allclose(art.backbone_at(x[48].numpy(), 1), own.backbone_at(x[48], 1), atol=1e-3)
        assert not np.allclose(art.backbone_at(x[64].numpy(), 0), own.backbone_at(x[64], 0), atol=1e-2)
    # eval, calibrate and bench of the folder say where its pass came from (their JSON; bench's title too)
    from drnet_edge.calibrate import calibrate
    from drnet_edge.evaluate import evaluate

    assert evaluate(data, artifacts=out, runtime="onnx", progress=False).to_json()["passes"] == manifest["passes"]
    cal = calibrate(
        None, str(data), None, artifacts=str(out), runtime="onnx", min_photos=0, progress=False, max_drop=5.0
    )
    assert cal.record["calibration"]["source"]["passes"] == manifest["passes"]
    r = run_cli("bench", "--artifacts", str(out), "--data", str(data), "--limit", "3", "--runs", "1", "--warmup", "0",
                "--quiet", "--json", str(tmp_path / "b.json"), "--report", str(tmp_path / "b.md"))  # fmt: skip
    assert r.returncode == 0, r.stderr
    report = json.loads((tmp_path / "b.json").read_text())
    assert report["passes"] == manifest["passes"] and report["source_model"] == str(ckpt)
    assert f"64 px pass from {donor}" in (tmp_path / "b.md").read_text().splitlines()[0]


@pytest.mark.parametrize(
    "spec, said",
    [
        ("64", "--pass-from '64': write RES=MODEL"),
        ("64=nope.pt", "--pass-from 64=nope.pt: checkpoint nope.pt does not exist"),
        ("32=nope.pt", "--pass-from 32=nope.pt: 32 px is not one of the model's resolutions"),
    ],
)
def test_cli_refuses_a_bad_pass_before_any_work(tiny, tmp_path: Path, spec: str, said: str) -> None:
    r = run_cli("convert", "--model", str(tiny[0]), "--target", "onnx", "--out", str(tmp_path / "x"),
                "--pass-from", spec)  # fmt: skip
    assert r.returncode != 0 and said in " ".join(r.stderr.split()), r.stderr
    assert not (tmp_path / "x").exists()
