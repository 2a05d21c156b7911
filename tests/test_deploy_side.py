"""The deploy side runs without PyTorch: numpy, OpenCV and the target's runtime package only.

Deploy side: ``data/`` (preprocessing, class lists, image folders), ``policy/`` (the policy logic),
``runtime/`` (the manifest, ``ArtifactDRNet``) and a loader per target, ``predict``, the bench, ``verify``,
``eval`` and ``calibrate`` of converted files, and the CLI itself. Build side (PyTorch): ``data/augment.py``,
``models/``, ``train/``, conversion, and ``eval`` / ``calibrate`` of a checkpoint.

Each check runs in a fresh interpreter where torch, torchvision and timm cannot be imported: a finder
placed first on ``sys.meta_path`` raises ``ModuleNotFoundError`` for them, as on a machine where they
are not installed. (Not ``sys.modules["torch"] = None``: scipy's ``array_api_compat`` calls
``getattr`` on whatever ``sys.modules["torch"]`` holds, and crashes on ``None``, so
``import drnet_edge.policy.candidates`` would fail for a reason no real machine has.)
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import run_cli

BLOCKER = '''
import importlib.abc
import sys

BLOCKED = ("torch", "torchvision", "timm")


class _NoTorch(importlib.abc.MetaPathFinder):
    """torch, torchvision and timm are unimportable, as where they are not installed."""

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r} (blocked by the test)", name=name)
        return None


sys.meta_path.insert(0, _NoTorch())


def loaded_blocked():
    return sorted(m for m in sys.modules if m.partition(".")[0] in BLOCKED)
'''

# Every module of the deploy side. Importing one must not import torch (nor fail for want of it).
DEPLOY_MODULES = (
    "drnet_edge",
    # shared: errors, atomic writes, progress, third-party logs, --resolutions, tables and plots
    "drnet_edge.errors",
    "drnet_edge._io",
    "drnet_edge.progress",
    "drnet_edge.logs",
    "drnet_edge.resolutions",
    "drnet_edge.tables",
    "drnet_edge.plots",
    "drnet_edge.wheelhouse",  # the deploy side as wheels for another machine (verify's userland, a board)
    # data/: preprocessing, class lists, image folders (augment.py is build side)
    "drnet_edge.data",
    "drnet_edge.data.preprocess",
    "drnet_edge.data.classes",
    "drnet_edge.data.folders",
    # policy/: the policy logic
    "drnet_edge.policy",
    "drnet_edge.policy.spec",
    "drnet_edge.policy.registry",
    "drnet_edge.policy.rows",
    "drnet_edge.policy.stats",
    "drnet_edge.policy.candidates",
    "drnet_edge.policy.crossfit",
    "drnet_edge.policy.selection",
    # the target registry and each target's loader
    "drnet_edge.converters",
    "drnet_edge.converters.base",
    "drnet_edge.converters._int8_io",
    "drnet_edge.converters.tflite_litert",
    "drnet_edge.converters.tflite_onnx2tf",
    "drnet_edge.converters.onnx_ort",
    "drnet_edge.converters.executorch_xnnpack",  # importable; ExecuTorch's own runtime needs torch to load
    # runtime/: the manifest, RunnableDRNet, ArtifactDRNet, per-image outputs
    "drnet_edge.runtime",
    "drnet_edge.runtime.manifest",
    "drnet_edge.runtime.interface",
    "drnet_edge.runtime.artifacts",
    "drnet_edge.runtime.outputs",
    # what runs converted files: predict, eval/calibrate --artifacts, the bench, verify
    "drnet_edge.predict",
    "drnet_edge.evaluate",
    "drnet_edge.calibrate",
    "drnet_edge.bench",
    "drnet_edge.bench.adb",
    "drnet_edge.bench.android",
    "drnet_edge.bench.android_run",
    "drnet_edge.bench.app",
    "drnet_edge.bench.delegates",
    "drnet_edge.bench.energy",
    "drnet_edge.bench.local",
    "drnet_edge.bench.markdown",
    "drnet_edge.bench.op_profile",
    "drnet_edge.bench.options",
    "drnet_edge.bench.parsers",
    "drnet_edge.bench.pipelines",
    "drnet_edge.bench.profiles",
    "drnet_edge.bench.resident",
    "drnet_edge.bench.run",
    "drnet_edge.bench.ssh",  # boards over SSH: the client, the board, the run
    "drnet_edge.bench.board",
    "drnet_edge.bench.board_run",
    "drnet_edge.bench.thermal",
    "drnet_edge.bench.timing",
    "drnet_edge.verify",
    "drnet_edge.verify.check",
    "drnet_edge.verify.findings",
    "drnet_edge.verify.score",
    "drnet_edge.verify.userland",
    "drnet_edge.verify.worker",
    # the command line (importing the app registers every command)
    "drnet_edge.cli",
)
# Sub-packages that are deploy side as a whole (every module in them is listed above), and the
# build-side exceptions inside them.
DEPLOY_PACKAGES = ("data", "policy", "runtime", "bench", "verify")
BUILD_SIDE_INSIDE = {"drnet_edge.data.augment"}

_IMPORT_EACH = (
    BLOCKER
    + """
import importlib
import json
import traceback

out = {}
for name in json.loads(sys.argv[1]):
    try:
        importlib.import_module(name)
        error = None
    except BaseException as exc:  # reported per module
        error = "".join(traceback.format_exception(exc)[-3:])
    out[name] = {"error": error, "torch_modules": loaded_blocked()}
print(json.dumps(out))
"""
)

_RUN_CLI = (
    BLOCKER
    + """
import json

from drnet_edge.cli import main

code = main(json.loads(sys.argv[1]))
print(json.dumps({"exit": code, "torch_modules": loaded_blocked()}))
"""
)


def run_without_torch(code: str, *args: str, timeout: float = 600) -> dict:
    """``code`` in a fresh interpreter with torch, torchvision and timm blocked; its last stdout line
    (JSON)."""
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def imported_without_torch() -> dict:
    """Every deploy-side module imported, one after another, in one torch-blocked interpreter."""
    return run_without_torch(_IMPORT_EACH, json.dumps(DEPLOY_MODULES))


@pytest.mark.parametrize("module", DEPLOY_MODULES)
def test_deploy_side_module_imports_without_torch(imported_without_torch: dict, module: str) -> None:
    got = imported_without_torch[module]
    assert got["error"] is None, got["error"]
    assert got["torch_modules"] == [], f"importing {module} imported {got['torch_modules']}"


def test_every_module_of_a_deploy_side_package_is_listed() -> None:
    pkg = Path(__file__).resolve().parents[1] / "drnet_edge"
    found = {
        ".".join(("drnet_edge", name, *p.relative_to(pkg / name).with_suffix("").parts)).removesuffix(".__init__")
        for name in DEPLOY_PACKAGES
        for p in (pkg / name).rglob("*.py")
    }
    assert sorted(found - set(DEPLOY_MODULES) - BUILD_SIDE_INSIDE) == []


def cli_without_torch(*args: str) -> None:
    """``drnet-edge ARGS`` in a torch-blocked interpreter; it must succeed without loading torch."""
    said = run_without_torch(_RUN_CLI, json.dumps(list(args)))
    assert said == {"exit": 0, "torch_modules": []}, said


@pytest.fixture(scope="module")
def int8_tflite(tiny, tiny_converted) -> tuple[Path, Path]:
    """The tiny DRNet as TFLite int8 (litert route) and its photos."""
    return tiny_converted("tflite", via="litert", int8=True)[0], tiny[1]


def test_predict_runs_without_torch_with_the_same_answers(int8_tflite, tmp_path: Path) -> None:
    art, photos = int8_tflite
    args = ["predict", "--artifacts", str(art), str(photos), "--threads", "1", "--top", "3", "--quiet"]
    cli_without_torch(*args, "--json", str(tmp_path / "blocked.json"))
    r = run_cli(*args, "--json", str(tmp_path / "torch.json"))
    assert r.returncode == 0, r.stderr
    blocked, ref = (json.loads((tmp_path / f"{n}.json").read_text()) for n in ("blocked", "torch"))
    assert blocked["policy"] == ref["policy"] and len(ref["photos"]) == 12

    def answers(report: dict) -> dict:
        return {
            p["path"]: ([(t["index"], t["probability"]) for t in p["top"]], p["answered_at"], p["ran"])
            for p in report["photos"]
        }

    assert answers(blocked) == answers(ref)


def test_bench_runs_without_torch_with_the_same_top1(int8_tflite, tmp_path: Path) -> None:
    art, photos = int8_tflite
    args = ["bench", "--artifacts", str(art), "--data", str(photos), "--runs", "2", "--warmup", "0", "--threads", "1"]
    cli_without_torch(*args, "--quiet", "--json", str(tmp_path / "blocked.json"))
    r = run_cli(*args, "--quiet", "--json", str(tmp_path / "torch.json"))
    assert r.returncode == 0, r.stderr
    blocked, ref = (json.loads((tmp_path / f"{n}.json").read_text()) for n in ("blocked", "torch"))
    assert blocked["n"] == ref["n"] == 12
    top1 = {name: p["top1"] for name, p in ref["policies"].items()}
    assert {name: p["top1"] for name, p in blocked["policies"].items()} == top1
    assert {"fixed-64", "fixed-48", "drnet"} <= set(top1)


def test_eval_of_converted_files_runs_without_torch_with_the_same_rows(int8_tflite, tmp_path: Path) -> None:
    art, photos = int8_tflite
    args = ["eval", "--artifacts", str(art), "--runtime", "tflite", "--data", str(photos), "--threads", "1"]
    cli_without_torch(*args, "--quiet", "--json", str(tmp_path / "blocked.json"))
    r = run_cli(*args, "--quiet", "--json", str(tmp_path / "torch.json"))
    assert r.returncode == 0, r.stderr
    blocked, ref = (json.loads((tmp_path / f"{n}.json").read_text()) for n in ("blocked", "torch"))
    assert blocked["n"] == ref["n"] == 12

    def rows(report: dict) -> dict:
        return {name: (p["top1"], p["resolution_share"]) for name, p in report["policies"].items()}

    assert rows(blocked) == rows(ref) and "drnet" in rows(ref)
    assert blocked["hardware"]["torch_threads"] is None


def test_calibrating_converted_files_runs_without_torch_with_the_same_choice(int8_tflite, tmp_path: Path) -> None:
    art, photos = int8_tflite
    args = ["calibrate", "--artifacts", str(art), "--runtime", "tflite", "--data", str(photos), "--threads", "1",
            "--min-photos", "0", "--folds", "2", "--quiet"]  # fmt: skip
    cli_without_torch(*args, "--out", str(tmp_path / "blocked"), "--json", str(tmp_path / "blocked.json"))
    r = run_cli(*args, "--out", str(tmp_path / "torch"), "--json", str(tmp_path / "torch.json"))
    assert r.returncode == 0, r.stderr
    blocked, ref = (json.loads((tmp_path / f"{n}.json").read_text()) for n in ("blocked", "torch"))
    assert (blocked["name"], blocked["spec"]) == (ref["name"], ref["spec"])
    assert blocked["calibration"]["expected"] == ref["calibration"]["expected"]
    manifests = [json.loads((tmp_path / n / "manifest.json").read_text()) for n in ("blocked", "torch")]
    assert manifests[0]["targets"]["tflite"]["policy"]["name"] == ref["name"]


def test_eval_of_converted_files_answers_as_predict_does(int8_tflite, tmp_path: Path) -> None:
    """``eval --artifacts`` (batched, numpy) and ``predict`` (the deployed loop, photo by photo) give each
    photo the same class at the same resolution under ``drnet``."""
    import drnet_edge as de
    from drnet_edge.predict import predict

    art, photos = int8_tflite
    report = de.evaluate(photos, runtime="tflite", artifacts=art, policies="drnet", threads=1, progress=False)
    preds = report.predictions
    assert preds is not None and preds.predictor_choice is not None
    evaluated = {
        p: (int(preds.top1[i, k]), preds.resolutions[k])
        for i, (p, k) in enumerate(zip(preds.paths, preds.predictor_choice, strict=True))
    }
    got = predict(art, [photos], policy="drnet", threads=1, progress=False)
    assert {p.path: (p.top[0]["index"], p.answered_at) for p in got.photos} == evaluated


def test_predict_on_a_checkpoint_answers_as_its_eval(tiny) -> None:
    """``predict --model`` (build side, PyTorch fp32, the deployed loop photo by photo) gives each photo the
    class and resolution that ``eval --model`` (batched) gives under ``drnet``; with ``--policy fixed-48``
    every photo is answered at 48 px, one pass."""
    import drnet_edge as de
    from drnet_edge.predict import predict

    ckpt, photos = tiny
    report = de.evaluate(photos, model=ckpt, policies="drnet", progress=False)
    preds = report.predictions
    evaluated = {
        p: (int(preds.top1[i, k]), preds.resolutions[k])
        for i, (p, k) in enumerate(zip(preds.paths, preds.predictor_choice, strict=True))
    }
    got = predict(None, [photos], model=ckpt, policy="drnet", progress=False)
    assert got.runtime == "pytorch" and got.precision == "fp32" and got.policy_source == "--policy"
    assert {p.path: (p.top[0]["index"], p.answered_at) for p in got.photos} == evaluated
    fixed = predict(None, [photos], model=ckpt, policy="fixed-48", progress=False)
    assert {p.answered_at for p in fixed.photos} == {48} and {len(p.ran) for p in fixed.photos} == {1}


@pytest.mark.parametrize(
    "args",
    [
        ["train", "--data", "{photos}", "--out", "{tmp}/m.pt", "--epochs", "1"],
        ["eval", "--model", "{ckpt}", "--data", "{photos}", "--quiet"],
        ["convert", "--model", "{ckpt}", "--target", "onnx", "--out", "{tmp}/art"],
        ["predict", "--model", "{ckpt}", "{photos}", "--quiet"],
    ],
    ids=["train", "eval-checkpoint", "convert", "predict-checkpoint"],
)
def test_build_side_commands_name_the_extra_without_torch(tiny, tmp_path: Path, args: list[str]) -> None:
    """On a deploy-side install a build-side command is one line naming the extra that adds PyTorch."""
    ckpt, photos = tiny
    argv = [a.format(photos=photos, ckpt=ckpt, tmp=tmp_path) for a in args]
    done = subprocess.run(
        [sys.executable, "-c", _RUN_CLI, json.dumps(argv)], capture_output=True, text=True, timeout=300
    )
    said = json.loads(done.stdout.strip().splitlines()[-1])
    assert said["exit"] == 2, done.stderr[-2000:]
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "needs PyTorch" in lines[0] and "pip install 'drnet-edge[build]'" in lines[0], lines
    assert not (tmp_path / "m.pt").exists() and not (tmp_path / "art").exists()
