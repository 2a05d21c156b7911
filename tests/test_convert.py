"""Convert tiny DRNets over registered backbones to every target and route, fp32 and int8, run them
through the runtime; fp32 parity per backbone; runtimes without the export tools; manifest; tampering."""

import importlib.util
import json
import shutil
import sys
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest
import torch

from drnet_edge.convert import FP32_ATOL, convert
from drnet_edge.converters import get_target, list_routes, list_targets
from drnet_edge.errors import ArtifactError, ConfigError, ConversionError, DataError
from drnet_edge.evaluate import evaluate
from drnet_edge.models.checkpoint import load_model

from .conftest import CLASSES, SMALL_BACKBONES, copy_artifacts

needs_onnx2tf = pytest.mark.skipif(
    importlib.util.find_spec("onnx2tf") is None or importlib.util.find_spec("tensorflow") is None,
    reason="the onnx2tf route needs pip install 'drnet-edge[onnx]'",
)

# Every registered (target, route): a new converter module is tested without editing this file.
ROUTES = [
    pytest.param(t, r, id=t if len(list_routes(t)) == 1 else f"{t}-{r}", marks=needs_onnx2tf if r == "onnx2tf" else ())
    for t in list_targets()
    for r in list_routes(t)
]


def _via(target: str, route: str) -> str:
    """``convert``'s ``via`` for a route (it names TFLite routes; other targets take the default)."""
    return route if len(list_routes(target)) > 1 else "litert"


@pytest.mark.parametrize("int8", [False, True], ids=["fp32", "int8"])
@pytest.mark.parametrize("target, route", ROUTES)
def test_convert_and_run_every_route(tiny, tiny_converted, target: str, route: str, int8: bool) -> None:
    """The whole pipeline (predictor, resolution-aware BN folded per resolution, manifest, runtime).
    int8 on a target's default route reads the folder the bench tests use (``--target all``: convert
    converts each target of it as it does alone); the others convert that target alone."""
    _, data = tiny
    default_route = route == list_routes(target)[0]
    out, parity = tiny_converted("all" if int8 and default_route else target, via=_via(target, route), int8=int8)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["format"] == "drnet-edge/artifacts" and manifest["resolutions"] == [64, 48]
    assert manifest["predictor_input"] == 32 and manifest["classes"]["ids"] == list(CLASSES)
    assert {"mean", "std", "crop_pct", "layout"} <= set(manifest["preprocess"])
    entry = manifest["targets"][target]
    assert entry["route"] == route and entry["precision"] == ("int8" if int8 else "fp32")
    assert set(entry["versions"]) == set(get_target(target, route).packages)
    models = entry["models"]
    assert set(models) == {"predictor", "backbone_64", "backbone_48"}
    for m in models.values():
        assert (out / m["file"]).is_file() and len(m["sha256"]) == 64 and m["macs"] > 0
        assert m["precision"] == ("int8" if int8 else "fp32")
        assert m["input"]["shape"] == [1, 3, m["input_size"], m["input_size"]]  # NCHW, batch 1, on every route
    for name, check in parity["targets"][target].items():
        if not int8:
            assert check["max_abs_diff"] <= FP32_ATOL, name
    if int8 and target == "tflite":  # both routes: an integer input, filled straight from the pixels
        _check_pixel_input(out, target)
    report = evaluate(data, runtime=target, artifacts=out, policies="fixed,drnet,random", progress=False)
    assert report.n == 12 and set(report.policies) == {"fixed-64", "fixed-48", "drnet", "random"}
    assert report.extra["precision"] == ("int8" if int8 else "fp32")


def _check_pixel_input(out: Path, target: str) -> None:
    """An int8 TFLite model takes int8 input; the table-lookup input gives the very logits of the
    float input quantised by the runner."""
    from drnet_edge.data.preprocess import to_array, to_model_input
    from drnet_edge.runtime.artifacts import ArtifactDRNet

    art = ArtifactDRNet(out, target)
    rng = np.random.default_rng(0)
    for k, (spec, r) in enumerate(zip(art.backbone_inputs, art.resolutions, strict=True)):
        assert spec is not None and spec["dtype"] == "int8" and spec["scale"] > 0, spec
        img = rng.integers(0, 256, (2, r, r, 3), dtype=np.uint8)
        q = to_model_input(img, art.preprocess, spec)
        assert q.dtype == np.int8 and q.shape == (2, 3, r, r)
        np.testing.assert_array_equal(art.backbone(k)(q), art.backbone(k)(to_array(img, art.preprocess)))


@pytest.mark.parametrize("backbone", SMALL_BACKBONES)
@pytest.mark.parametrize("target, route", ROUTES)
def test_fp32_parity_on_registered_backbones(tiny, tiny_checkpoints, tmp_path: Path, target, route, backbone):
    """Each small registered backbone (random weights, random BN statistics, BN wrapped as
    resolution-aware and folded back) converts through every route with fp32 logits within
    FP32_ATOL of PyTorch. One resolution, no predictor: the pipeline test above covers those."""
    ckpt = tiny_checkpoints(backbone, resolutions=(48,), predictor=False)
    out = tmp_path / "art"
    parity = convert(
        ckpt, targets=[target], via=_via(target, route), out=out, quant_data=tiny[1], quant_count=4, log=lambda m: None
    )
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["backbone"] == backbone and manifest["targets"][target]["route"] == route
    (name, c), *others = parity["targets"][target].items()
    assert name == "backbone_48" and not others
    assert c["n_calib_checked"] == 4 and c["max_abs_diff"] <= FP32_ATOL and c["top1_agreement_calib"] == 1.0, c


# Runs in a fresh interpreter where no export-only package can be imported and each reads as not
# installed: argv = JSON {"block": [packages], "files": [[target, route, model file], ...]}, input
# .npy, output .npz; prints what check_export said per file.
_RUN_WITHOUT_EXPORT_TOOLS = """
import json, sys
from importlib import metadata
import numpy as np
job, x, y = json.loads(sys.argv[1]), np.load(sys.argv[2]), sys.argv[3]
modules = {"tf-keras": "tf_keras", "onnx-graphsurgeon": "onnx_graphsurgeon", "litert-torch": "litert_torch"}
for pkg in job["block"]:
    sys.modules[modules.get(pkg, pkg.replace("-", "_"))] = None  # import raises ImportError
real_version = metadata.version
def version(pkg):
    if pkg in job["block"]:
        raise metadata.PackageNotFoundError(pkg)
    return real_version(pkg)
metadata.version = version
from drnet_edge.converters import get_target
out, said = {}, {}
for target, route, model in job["files"]:
    t = get_target(target, route)
    t.check_runtime()
    try:
        t.check_export()
        said[f"{target}-{route}"] = "passed"
    except Exception as exc:
        said[f"{target}-{route}"] = str(exc)
    out[f"{target}-{route}"] = t.load(model, threads=1)(x)
np.savez(y, **out)
print(json.dumps(said))
"""


def test_running_needs_only_runtime_packages(tmp_path: Path) -> None:
    """Files of every route load and run in a process where no export-only package (one some
    route needs to export but no route needs to run) is importable or installed, as far as
    check_runtime can tell; check_export there names what is missing."""
    import subprocess

    torch.manual_seed(0)
    module = torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.ReLU6(), torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(),
        torch.nn.Linear(8, 3),
    ).eval()  # fmt: skip
    x = torch.randn(2, 3, 16, 16)
    np.save(tmp_path / "x.npy", x.numpy())
    routes = [(t, r) for t in list_targets() for r in list_routes(t)]
    if importlib.util.find_spec("onnx2tf") is None:
        routes.remove(("tflite", "onnx2tf"))
    files, runtime, export = [], set(), set()
    for target, route in routes:
        t = get_target(target, route)
        path = tmp_path / f"{target}-{route}{t.suffix}"
        t.export(module, x[:1], path, int8=False)
        files.append([target, route, str(path)])
        runtime |= set(t.runtime_packages)
        export |= set(t.export_packages)
    block = sorted(export - runtime)
    job = json.dumps({"block": block, "files": files})
    done = subprocess.run(
        [sys.executable, "-c", _RUN_WITHOUT_EXPORT_TOOLS, job, str(tmp_path / "x.npy"), str(tmp_path / "y.npz")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    said = json.loads(done.stdout.strip().splitlines()[-1])
    with torch.no_grad():
        ref = module(x).numpy()
    got = np.load(tmp_path / "y.npz")
    for target, route in routes:
        t = get_target(target, route)
        missing = [p for p in t.packages if p in block]
        if missing:
            assert said[f"{target}-{route}"] == (
                f"target {target!r}{f' (route {route})' if route != 'default' else ''} needs {', '.join(missing)} "
                f"to convert to it: pip install 'drnet-edge[{t.extra}]'"
            )
        assert np.abs(got[f"{target}-{route}"] - ref).max() <= FP32_ATOL, (target, route)


def test_runtime_check_names_missing_runtime_package(monkeypatch) -> None:
    t = get_target("onnx")
    real_version = metadata.version

    def version(pkg: str) -> str:
        if pkg == "onnxruntime":
            raise metadata.PackageNotFoundError(pkg)
        return real_version(pkg)

    monkeypatch.setattr(metadata, "version", version)
    with pytest.raises(
        ConfigError, match=r"target 'onnx' needs onnxruntime to run its files: pip install 'drnet-edge\[ort\]'"
    ):
        t.check_runtime()
    assert t.versions()["onnxruntime"] == "not installed" and t.versions()["onnxsim"] != "not installed"


def test_every_loader_and_exporter_belongs_to_a_registered_target() -> None:
    """The registry names each target's two halves: every module of converters/load/ is some target's
    loader (load, describe) and every module of converters/export/ but private ones some target's
    exporter (export, and export_shared where the target shares weights); none is left over."""
    import importlib
    import pkgutil

    import drnet_edge.converters.export as exporters
    import drnet_edge.converters.load as loaders

    targets = [get_target(t, r) for t in list_targets() for r in list_routes(t)]
    assert {m.name for m in pkgutil.iter_modules(loaders.__path__)} == {
        t.loader.__name__.rpartition(".")[2] for t in targets
    }
    modules = {m.name for m in pkgutil.iter_modules(exporters.__path__) if not m.name.startswith("_")}
    assert modules == {t.exporter for t in targets} and len(modules) == len(targets)  # one exporter per route
    for t in targets:
        assert callable(t.loader.load) and callable(t.loader.describe), t.name
        exporter = importlib.import_module(f"drnet_edge.converters.export.{t.exporter}")
        assert callable(exporter.export) and (not t.shares_weights or callable(exporter.export_shared)), t.exporter
    assert list_routes("tflite")[0] == "litert" and get_target("tflite").route == "litert"  # the default route


def test_fp32_runtime_matches_pytorch_pipeline(tiny, tiny_converted) -> None:
    ckpt, data = tiny
    a = evaluate(data, runtime="onnx", artifacts=tiny_converted("onnx")[0], policies="fixed,drnet", progress=False)
    b = evaluate(data, model=ckpt, policies="fixed,drnet", progress=False)
    for name in a.policies:
        assert a.policies[name].top1 == b.policies[name].top1
        assert a.policies[name].resolution_share == b.policies[name].resolution_share


@pytest.fixture
def artifacts(tiny_converted, tmp_path: Path) -> Path:
    """The tiny DRNet converted for ONNX: this test's own copy (the tests tamper with it)."""
    return copy_artifacts(tiny_converted("onnx")[0], tmp_path / "art")


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
    with pytest.raises(ConfigError, match="--runtime tflite: the artifacts hold onnx"):  # said before any load
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
        convert(ckpt, targets=["onnx"], out=tmp_path / "x", quant_data=empty)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty"]  # no half-written output


def test_export_failure_names_model_and_stage(tiny, tmp_path: Path, monkeypatch) -> None:
    from drnet_edge.converters import get_target

    def boom(*a, **k):
        raise RuntimeError("unsupported op")

    monkeypatch.setattr(get_target("onnx"), "export", boom)
    with pytest.raises(ConversionError, match="onnx/predictor: export failed: RuntimeError: unsupported op"):
        convert(tiny[0], targets=["onnx"], out=tmp_path / "x", quant_data=tiny[1], quant_count=2, log=lambda m: None)
    assert not (tmp_path / "x").exists() and not list(tmp_path.glob(".x.*"))


@pytest.mark.parametrize("target", [t for t in list_targets() if get_target(t).shares_weights])
def test_shared_weights_stored_once(tmp_path: Path, tiny, tiny_checkpoints, target: str) -> None:
    """Without resolution-aware BN every backbone shares all weights: one file, an entry point each."""
    _, data = tiny
    ckpt = tiny_checkpoints("mobilenet_v2", predictor=False, resolution_bn=False)
    out = tmp_path / "art"
    convert(ckpt, targets=[target], out=out, quant_data=data, quant_count=4, log=lambda m: None)
    entry = json.loads((out / "manifest.json").read_text())["targets"][target]
    assert entry["shared_backbone_weights"]
    b64, b48 = entry["models"]["backbone_64"], entry["models"]["backbone_48"]
    assert b64["file"] == b48["file"] and b64["entry"] == "backbone_64" and b48["entry"] == "backbone_48"
    weights = sum(p.numel() * 4 for p in load_model(ckpt)[0].backbone.parameters())
    assert b64["bytes"] < 1.5 * weights  # one copy of the weights, not two
    a = evaluate(data, runtime=target, artifacts=out, policies="fixed", progress=False)
    b = evaluate(data, model=ckpt, policies="fixed", progress=False)
    assert set(a.policies) == {"fixed-64", "fixed-48"}
    assert all(a.policies[k].top1 == b.policies[k].top1 for k in a.policies)


def test_real_default_model_converts_with_parity(tmp_path: Path) -> None:
    """Integration tier: the bundled lite0-imagenet (real predictor, real Lite0 backbones) to ONNX."""
    out = tmp_path / "art"
    parity = convert("lite0-imagenet", targets=["onnx"], out=out, quant_count=8, log=lambda m: None)
    assert set(parity["targets"]["onnx"]) == {
        "predictor",
        "backbone_224",
        "backbone_192",
        "backbone_160",
        "backbone_128",
    }
    assert all(c["max_abs_diff"] <= FP32_ATOL for c in parity["targets"]["onnx"].values())
    from drnet_edge.data.folders import sample_dir

    a = evaluate(sample_dir(), runtime="onnx", artifacts=out, policies="fixed-224,drnet", limit=12, progress=False)
    b = evaluate(sample_dir(), model="lite0-imagenet", policies="fixed-224,drnet", limit=12, progress=False)
    assert a.policies["drnet"].top1 == b.policies["drnet"].top1
    assert a.policies["drnet"].resolution_share == b.policies["drnet"].resolution_share


@needs_onnx2tf
def test_onnx2tf_never_reaches_the_network(tmp_path: Path) -> None:
    import requests
    from onnx2tf.utils.common_functions import download_test_image_data

    from drnet_edge.converters.export.tflite_onnx2tf import NetworkBlocked, _offline_in

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

    from drnet_edge.converters.export._pt2e import prepare_with_relu6_fused

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
