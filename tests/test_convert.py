"""Convert a tiny DRNet to every target, fp32 and int8, run it through the runtime; manifest; tampering."""

import importlib.util
import json
import shutil
from pathlib import Path

import pytest
import torch

from drnet_edge.backbones import TF_LITE_PREPROCESS, create_backbone
from drnet_edge.checkpoint import make_checkpoint, save_checkpoint
from drnet_edge.convert import FP32_ATOL, convert
from drnet_edge.converters import list_targets
from drnet_edge.data import ClassList
from drnet_edge.drnet import DRNet, PredictorCfg, ResolutionPredictor
from drnet_edge.errors import ArtifactError, ConfigError, ConversionError, DataError
from drnet_edge.evaluate import evaluate

from .conftest import CLASSES


@pytest.mark.parametrize("int8", [False, True], ids=["fp32", "int8"])
@pytest.mark.parametrize("target", list_targets())
def test_convert_and_run_every_target(tiny, tmp_path: Path, target: str, int8: bool) -> None:
    ckpt, data = tiny
    out = tmp_path / "art"
    parity = convert(ckpt, targets=[target], out=out, int8=int8, calib=data, calib_count=8, log=lambda m: None)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["format"] == "drnet-edge/artifacts" and manifest["resolutions"] == [64, 48]
    assert manifest["predictor_input"] == 32 and manifest["classes"]["ids"] == list(CLASSES)
    assert {"mean", "std", "crop_pct", "layout"} <= set(manifest["preprocess"])
    models = manifest["targets"][target]["models"]
    assert set(models) == {"predictor", "backbone_64", "backbone_48"}
    for m in models.values():
        assert (out / m["file"]).is_file() and len(m["sha256"]) == 64 and m["macs"] > 0
        assert m["precision"] == ("int8" if int8 else "fp32") and m["input"]["shape"][0] == 1
    for name, check in parity["targets"][target].items():
        if not int8:
            assert check["max_abs_diff"] <= FP32_ATOL, name
    report = evaluate(data, runtime=target, artifacts=out, policies="fixed,drnet,random", progress=False)
    assert report.n == 12 and set(report.policies) == {"fixed-64", "fixed-48", "drnet", "random"}
    assert report.extra["precision"] == ("int8" if int8 else "fp32")


def test_fp32_runtime_matches_pytorch_pipeline(tiny, tmp_path: Path) -> None:
    ckpt, data = tiny
    convert(ckpt, targets=["onnx"], out=tmp_path / "a", calib=data, calib_count=4, log=lambda m: None)
    a = evaluate(data, runtime="onnx", artifacts=tmp_path / "a", policies="fixed,drnet", progress=False)
    b = evaluate(data, model=ckpt, policies="fixed,drnet", progress=False)
    for name in a.policies:
        assert a.policies[name].top1 == b.policies[name].top1
        assert a.policies[name].resolution_share == b.policies[name].resolution_share


@pytest.fixture
def artifacts(tiny, tmp_path: Path) -> Path:
    ckpt, data = tiny
    out = tmp_path / "art"
    convert(ckpt, targets=["onnx"], out=out, calib=data, calib_count=4, log=lambda m: None)
    return out


@pytest.mark.parametrize(
    "tamper, message",
    [
        (lambda d: (d / "onnx" / "backbone_48.onnx").unlink(), "missing"),
        (lambda d: (d / "onnx" / "backbone_48.onnx").write_bytes(b"altered"), "sha256"),
        (lambda d: shutil.copy(d / "onnx" / "predictor.onnx", d / "onnx" / "extra.onnx"), "not in the manifest"),
        (lambda d: (d / "manifest.json").unlink(), "no manifest.json"),
    ],
    ids=["missing", "altered", "extra", "no-manifest"],
)
def test_tampered_artifacts_are_refused(artifacts: Path, tiny, tamper, message: str) -> None:
    tamper(artifacts)
    with pytest.raises(ArtifactError, match=message):
        evaluate(tiny[1], runtime="onnx", artifacts=artifacts, progress=False)


def test_wrong_runtime_for_artifacts(artifacts: Path, tiny) -> None:
    with pytest.raises(ArtifactError, match="holds no tflite models"):
        evaluate(tiny[1], runtime="tflite", artifacts=artifacts, progress=False)


def test_bad_convert_requests_leave_nothing_behind(tiny, tmp_path: Path) -> None:
    ckpt, data = tiny
    with pytest.raises(ConfigError, match="unknown target 'coreml'"):
        convert(ckpt, targets=["coreml"], out=tmp_path / "x")
    with pytest.raises(ConfigError, match="--via must be one of litert, onnx2tf"):
        convert(ckpt, targets=["tflite"], via="tf2onnx", out=tmp_path / "x")
    with pytest.raises(ConfigError, match="--via onnx2tf is a TFLite route"):
        convert(ckpt, targets=["onnx"], via="onnx2tf", out=tmp_path / "x")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataError, match="holds no images"):
        convert(ckpt, targets=["onnx"], out=tmp_path / "x", calib=empty)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty"]  # no half-written output


def test_export_failure_names_model_and_stage(tiny, tmp_path: Path, monkeypatch) -> None:
    from drnet_edge.converters import get_target

    def boom(*a, **k):
        raise RuntimeError("unsupported op")

    monkeypatch.setattr(get_target("onnx"), "export", boom)
    with pytest.raises(ConversionError, match="onnx/predictor: export failed: RuntimeError: unsupported op"):
        convert(tiny[0], targets=["onnx"], out=tmp_path / "x", calib=tiny[1], calib_count=2, log=lambda m: None)
    assert not (tmp_path / "x").exists() and not list(tmp_path.glob(".x.*"))


@pytest.mark.parametrize("target", ["tflite", "executorch"])
def test_shared_weights_stored_once(tmp_path: Path, tiny, target: str) -> None:
    """Without resolution-aware BN every backbone shares all weights: one file, an entry point each."""
    _, data = tiny
    torch.manual_seed(0)
    backbone = create_backbone("resnet10t", pretrained=False, num_classes=3).eval()
    predictor = ResolutionPredictor(PredictorCfg(2, thumb_size=32, trunk_stages=2), pretrained_trunk=False).eval()
    model = DRNet(backbone, [64, 48], predictor, TF_LITE_PREPROCESS, backbone_name="resnet10t")
    ckpt = save_checkpoint(
        tmp_path / "s.pt", make_checkpoint(model, ClassList(CLASSES, CLASSES, "t"), include_backbone=True)
    )
    out = tmp_path / "art"
    convert(ckpt, targets=[target], out=out, calib=data, calib_count=4, log=lambda m: None)
    entry = json.loads((out / "manifest.json").read_text())["targets"][target]
    assert entry["shared_backbone_weights"]
    b64, b48 = entry["models"]["backbone_64"], entry["models"]["backbone_48"]
    assert b64["file"] == b48["file"] and b64["entry"] == "backbone_64" and b48["entry"] == "backbone_48"
    weights = sum(p.numel() * 4 for p in backbone.parameters())
    assert b64["bytes"] < 1.5 * weights  # one copy of the weights, not two
    a = evaluate(data, runtime=target, artifacts=out, policies="fixed,drnet", progress=False)
    b = evaluate(data, model=ckpt, policies="fixed,drnet", progress=False)
    assert all(a.policies[k].top1 == b.policies[k].top1 for k in a.policies)


def test_real_default_model_converts_with_parity(tmp_path: Path) -> None:
    """Integration tier: the bundled lite0-imagenet (real predictor, real Lite0 backbones) to ONNX."""
    out = tmp_path / "art"
    parity = convert("lite0-imagenet", targets=["onnx"], out=out, calib_count=8, log=lambda m: None)
    assert set(parity["targets"]["onnx"]) == {
        "predictor",
        "backbone_224",
        "backbone_192",
        "backbone_160",
        "backbone_128",
    }
    assert all(c["max_abs_diff"] <= FP32_ATOL for c in parity["targets"]["onnx"].values())
    from drnet_edge.data import sample_dir

    a = evaluate(sample_dir(), runtime="onnx", artifacts=out, policies="fixed-224,drnet", limit=12, progress=False)
    b = evaluate(sample_dir(), model="lite0-imagenet", policies="fixed-224,drnet", limit=12, progress=False)
    assert a.policies["drnet"].top1 == b.policies["drnet"].top1
    assert a.policies["drnet"].resolution_share == b.policies["drnet"].resolution_share


needs_onnx2tf = pytest.mark.skipif(
    importlib.util.find_spec("onnx2tf") is None or importlib.util.find_spec("tensorflow") is None,
    reason="the onnx2tf route needs pip install 'drnet-edge[onnx]'",
)


@needs_onnx2tf
@pytest.mark.parametrize("int8", [False, True], ids=["fp32", "int8"])
def test_tflite_via_onnx2tf(tiny, tmp_path: Path, int8: bool) -> None:
    ckpt, data = tiny
    out = tmp_path / "art"
    parity = convert(
        ckpt, targets=["tflite"], via="onnx2tf", out=out, int8=int8, calib=data, calib_count=8, log=lambda m: None
    )
    manifest = json.loads((out / "manifest.json").read_text())
    entry = manifest["targets"]["tflite"]
    assert entry["route"] == "onnx2tf" and set(entry["models"]) == {"predictor", "backbone_64", "backbone_48"}
    for m in entry["models"].values():
        assert m["input"]["shape"] == [1, 3, m["input_size"], m["input_size"]]  # NCHW kept, like every target
    if not int8:
        assert max(c["max_abs_diff"] for c in parity["targets"]["tflite"].values()) <= FP32_ATOL
    report = evaluate(data, runtime="tflite", artifacts=out, policies="fixed,drnet", progress=False)
    assert report.n == 12 and report.extra["precision"] == ("int8" if int8 else "fp32")


@needs_onnx2tf
def test_onnx2tf_never_reaches_the_network(tmp_path: Path) -> None:
    import requests
    from onnx2tf.utils.common_functions import download_test_image_data

    from drnet_edge.converters.tflite_onnx2tf import NetworkBlocked, _offline_in

    with _offline_in(tmp_path):
        assert download_test_image_data().shape == (20, 128, 128, 3)  # the placeholder, not a download
        with pytest.raises(NetworkBlocked, match="keeps it offline"):
            requests.get("https://github.com/PINTO0309/onnx2tf/releases/download/x.npy")
    assert requests.get.__name__ == "get"


def test_relu6_is_quantized_fused_with_its_convolution() -> None:
    """The int8 range after conv + ReLU6 is the clipped 0..6, not the raw convolution output's."""
    from executorch.backends.xnnpack.quantizer.xnnpack_quantizer import (
        XNNPACKQuantizer,
        get_symmetric_quantization_config,
    )

    from drnet_edge.converters.base import prepare_with_relu6_fused

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.ReLU6(), torch.nn.Conv2d(8, 4, 1)).eval()
    x = 10 * torch.randn(1, 3, 16, 16)  # raw conv outputs far outside 0..6
    quantizer = XNNPACKQuantizer().set_global(get_symmetric_quantization_config(is_per_channel=True))
    prepared = prepare_with_relu6_fused(torch.export.export(model, (x,)).module(), quantizer)
    assert sum(n.target == torch.ops.aten.hardtanh.default for n in prepared.graph.nodes) == 1
    prepared(x)
    ranges = [
        (float(m.min_val), float(m.max_val))
        for m in prepared.modules()
        if hasattr(m, "min_val") and m.min_val.numel() == 1
    ]
    inner = [r for r in ranges if r[0] >= 0]  # activation observers after the clamp
    assert inner and all(0 <= lo and hi <= 6 for lo, hi in inner)
    assert not any(lo < -5 and hi > 6 for lo, hi in ranges[1:-1]), ranges  # no observer on the raw conv output
