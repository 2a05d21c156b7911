"""Shared fixtures: tiny image folders made on the fly, and the shared photos when present."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from drnet_edge.data.classes import ClassList
from drnet_edge.models.backbones import TF_LITE_PREPROCESS, create_backbone
from drnet_edge.models.checkpoint import make_checkpoint, save_checkpoint
from drnet_edge.models.drnet import DRNet, PredictorCfg, ResolutionPredictor, make_resolution_aware

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
IMAGENET_DEV = SHARED / "imagenet-sample-dev"
IMAGEWOOF = SHARED / "imagewoof-train-3k"

needs_shared = pytest.mark.skipif(
    not IMAGENET_DEV.is_dir(), reason=f"shared photos not found at {IMAGENET_DEV} (integration tier needs ../shared)"
)


def needs_folder(folder: Path) -> pytest.MarkDecorator:
    """Skip (with the reason) unless ``folder``, a data set of ../shared, is present."""
    return pytest.mark.skipif(
        not folder.is_dir(), reason=f"{folder.name} not found at {folder} (integration tier needs ../shared)"
    )


needs_imagenet_dev = needs_folder(IMAGENET_DEV)
needs_imagewoof = needs_folder(IMAGEWOOF)


def pytest_configure(config: pytest.Config) -> None:
    """Under pytest-xdist (``make test`` runs two workers) each worker gets its own temporary folder, so
    the tests that check that nothing was left in it see only their own worker's files."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        import tempfile

        own = Path(tempfile.gettempdir()) / f"drnet-edge-tests-{os.getppid()}-{worker}"
        own.mkdir(parents=True, exist_ok=True)
        os.environ["TMPDIR"] = str(own)
        tempfile.tempdir = str(own)
        config.stash[_OWN_TMP] = own


# Fixtures that convert a model (seconds to a minute each): a test using one is marked ``conversion`` (so is
# every test of a module that converts in its body), and ``make test-fast`` leaves them out.
CONVERSION_FIXTURES = {"tiny_converted", "tiny_artifacts", "onnx_artifacts", "int8_tflite", "calibrated_tflite"}
CONVERSION_MODULES = {
    "test_convert.py",
    "test_compose.py",
    "test_own_data.py",
    "test_verify.py",
    "test_policy_on_artifacts.py",
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if CONVERSION_FIXTURES & set(getattr(item, "fixturenames", ())) or item.path.name in CONVERSION_MODULES:
            item.add_marker(pytest.mark.conversion)


def pytest_unconfigure(config: pytest.Config) -> None:
    own = config.stash.get(_OWN_TMP, None)
    if own is not None:
        shutil.rmtree(own, ignore_errors=True)


_OWN_TMP = pytest.StashKey[Path]()


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the MACs cache out of the user's home."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "cache"))
    torch.manual_seed(0)


def write_image(path: Path, size: tuple[int, int] = (48, 64), seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    img = rng.integers(0, 255, size=(*size, 3), dtype=np.uint8)
    assert cv2.imwrite(str(path), img)
    return path


@pytest.fixture
def tiny_folder(tmp_path: Path) -> Path:
    """Two plain classes, three images each."""
    root = tmp_path / "data"
    for c, name in enumerate(["cat", "dog"]):
        for i in range(3):
            write_image(root / name / f"{i}.png", seed=10 * c + i)
    return root


@pytest.fixture
def wnid_folder(tmp_path: Path) -> Path:
    """ImageNet-style folders: tench (index 0) and goldfish (index 1)."""
    root = tmp_path / "wnid"
    for wnid in ["n01443537", "n01440764"]:  # goldfish (1), tench (0)
        write_image(root / wnid / "a.jpg", seed=3)
    return root


CLASSES = ("cat", "dog", "fox")


@pytest.fixture(scope="session")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A tiny resolution-aware DRNet checkpoint (resnet10t, 64/48 px) and a 3-class photo folder."""
    root = tmp_path_factory.mktemp("tiny")
    torch.manual_seed(0)
    backbone = create_backbone("resnet10t", pretrained=False, num_classes=3)
    make_resolution_aware(backbone, 2)
    predictor = ResolutionPredictor(PredictorCfg(2, thumb_size=32, trunk_stages=2), pretrained_trunk=False)
    model = DRNet(backbone.eval(), [64, 48], predictor.eval(), TF_LITE_PREPROCESS, backbone_name="resnet10t")
    classes = ClassList(CLASSES, CLASSES, "test")
    ckpt = save_checkpoint(root / "tiny.pt", make_checkpoint(model, classes, include_backbone=True))
    data = root / "photos"
    for c, name in enumerate(CLASSES):
        for i in range(4):
            write_image(data / name / f"{i}.png", size=(72, 80), seed=10 * c + i)
    return ckpt, data


# Registered backbones the conversion tests convert through every route (random weights, tiny
# inputs): the project's EfficientNet-Lite0 (ReLU6, depthwise, TF "same" padding) and MobileNetV3
# (hardswish, squeeze-and-excitation). MobileNetV2's ops are a subset of Lite0's; it is converted in
# the shared-weights test. Each route costs ~15 s a model on 2 cores, whatever its size: keep this short.
SMALL_BACKBONES = ("efficientnet_lite0", "mobilenet_v3_large")


def randomise_batchnorm(model: torch.nn.Module, seed: int = 0) -> None:
    """Give every BatchNorm (each resolution's copy its own) non-trivial statistics and affine
    parameters, as after training: freshly built ones are identities, under which a converter that
    dropped or mixed up BN layers would still pass, and whose logits grow with depth."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
                n = m.num_features
                m.running_mean.copy_(0.1 * torch.randn(n, generator=g))
                m.running_var.copy_(0.5 + torch.rand(n, generator=g))
                if m.affine:
                    m.weight.copy_(0.5 + 0.5 * torch.rand(n, generator=g))
                    m.bias.copy_(0.1 * torch.randn(n, generator=g))


def tiny_checkpoint(
    path: Path,
    backbone_name: str,
    resolutions: tuple[int, ...] = (64, 48),
    *,
    predictor: bool = True,
    resolution_bn: bool = True,
    seed: int = 0,
) -> Path:
    """A randomly initialised DRNet checkpoint over the registered ``backbone_name`` (3 classes,
    its own preprocessing), with per-resolution BN and a predictor (32 px thumbnail) when asked."""
    from drnet_edge.models.backbones import get_backbone_cfg

    torch.manual_seed(seed)
    backbone = create_backbone(backbone_name, pretrained=False, num_classes=len(CLASSES))
    if resolution_bn:
        make_resolution_aware(backbone, len(resolutions))
    randomise_batchnorm(backbone, seed)
    pred = None
    if predictor:
        pred = ResolutionPredictor(
            PredictorCfg(len(resolutions), thumb_size=32, trunk_stages=2), pretrained_trunk=False
        ).eval()
    model = DRNet(
        backbone.eval(),
        list(resolutions),
        pred,
        get_backbone_cfg(backbone_name).preprocess,
        backbone_name=backbone_name,
    )
    classes = ClassList(CLASSES, CLASSES, "test")
    return save_checkpoint(path, make_checkpoint(model, classes, include_backbone=True))


@pytest.fixture(scope="session")
def tiny_checkpoints(tmp_path_factory: pytest.TempPathFactory):
    """``make(backbone, resolutions=(64, 48), predictor=..., resolution_bn=...)``: a
    :func:`tiny_checkpoint`, built once per session for each combination."""
    root = tmp_path_factory.mktemp("tiny-backbones")
    made: dict[tuple, Path] = {}

    def make(
        backbone: str, resolutions: tuple[int, ...] = (64, 48), *, predictor: bool = True, resolution_bn: bool = True
    ) -> Path:
        key = (backbone, tuple(resolutions), predictor, resolution_bn)
        if key not in made:
            name = "-".join([backbone, *map(str, resolutions), "pred" * predictor, "rbn" * resolution_bn])
            made[key] = tiny_checkpoint(
                root / f"{name}.pt", backbone, tuple(resolutions), predictor=predictor, resolution_bn=resolution_bn
            )
        return made[key]

    return make


def _tree_hashes(root: Path) -> dict[str, str]:
    import hashlib

    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="session")
def tiny_converted(tiny, tmp_path_factory: pytest.TempPathFactory):
    """``make(*targets, via="litert", int8=False)``: the :func:`tiny` checkpoint converted (8 calibration
    views of its photos) and its parity report, ``(folder, parity)``, done once per session for each
    combination (each conversion costs ~15 s a model on 2 cores). Shared and read-only: a test that
    changes the files (tampering, calibrating in place) works on :func:`copy_artifacts` of them; the
    session fails if a shared folder was changed."""
    from drnet_edge.convert import convert

    ckpt, data = tiny
    made: dict[tuple, tuple[Path, dict]] = {}
    hashes: dict[Path, dict[str, str]] = {}

    def make(*targets: str, via: str = "litert", int8: bool = False) -> tuple[Path, dict]:
        key = (tuple(targets), via, int8)
        if key not in made:
            name = "-".join([*targets, via, "int8" if int8 else "fp32"])
            out = tmp_path_factory.mktemp(f"tiny-{name}") / "art"
            parity = convert(
                ckpt,
                targets=list(targets),
                via=via,
                out=out,
                int8=int8,
                quant_data=data,
                quant_count=8,
                log=lambda m: None,
            )
            made[key], hashes[out] = (out, parity), _tree_hashes(out)
        return made[key]

    yield make
    changed = [str(out) for out, before in hashes.items() if _tree_hashes(out) != before]
    assert not changed, f"a test changed shared converted artifacts (copy them first): {changed}"


def copy_artifacts(src: Path, dst: Path) -> Path:
    """A private copy of shared converted artifacts, for a test that changes them."""
    return Path(shutil.copytree(src, dst))


def run_cli(*args: str) -> subprocess.CompletedProcess:
    """``drnet-edge ARGS`` in this process (typer's runner: stdout and stderr apart, exit code as the
    process's), returned as ``subprocess.run`` would; the environment is restored afterwards (the CLI's
    quiet defaults set variables for TensorFlow). For cases whose behaviour does not depend on a fresh
    interpreter: each file keeps real ``python -m drnet_edge`` runs for the entry point itself."""
    from typer.testing import CliRunner

    from drnet_edge.cli import app

    env = dict(os.environ)
    try:
        result = CliRunner().invoke(app, list(args))
    finally:
        os.environ.clear()
        os.environ.update(env)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception  # an escaped exception would be a traceback on a real run
    return subprocess.CompletedProcess(["drnet-edge", *args], result.exit_code, result.stdout, result.stderr)


def modules_after_importing(*modules: str) -> list[str]:
    """Every module loaded in a fresh interpreter after importing ``modules`` (what an import pulls in)."""
    import sys

    code = f"import sys, {', '.join(modules)}\nprint('\\n'.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return out.split()
