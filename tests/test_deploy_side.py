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
import os
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
    "drnet_edge._lazy",
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
    "drnet_edge.policy.deploy",
    # the target registry and each runtime's loader (converters/export/ is the build side)
    "drnet_edge.converters",
    "drnet_edge.converters.base",
    "drnet_edge.converters.targets",
    "drnet_edge.converters.load",
    "drnet_edge.converters.load.tflite",
    "drnet_edge.converters.load.onnx_ort",
    "drnet_edge.converters.load.executorch_xnnpack",  # importable; ExecuTorch's own runtime needs torch to load
    # runtime/: the manifest, RunnableDRNet, ArtifactDRNet, per-image outputs
    "drnet_edge.runtime",
    "drnet_edge.runtime.manifest",
    "drnet_edge.runtime.interface",
    "drnet_edge.runtime.artifacts",
    "drnet_edge.runtime.outputs",
    "drnet_edge.runtime.loop",
    "drnet_edge.runtime.int8_io",
    "drnet_edge.runtime.source",  # the one door to a model: converted files here, checkpoints via openers
    "drnet_edge.runtime.bundled",
    # what runs converted files: predict, eval/calibrate --artifacts, the bench, verify
    "drnet_edge.predict",
    "drnet_edge.evaluate",
    "drnet_edge.calibrate",
    "drnet_edge.bench",
    "drnet_edge.bench.delegates",
    "drnet_edge.bench.options",
    "drnet_edge.bench.profiles",
    "drnet_edge.bench.run",
    "drnet_edge.bench.timing",
    "drnet_edge.bench.transport",  # adb to phones, ssh to boards
    "drnet_edge.bench.transport.adb",
    "drnet_edge.bench.transport.ssh",
    "drnet_edge.bench.meters",
    "drnet_edge.bench.meters.energy",
    "drnet_edge.bench.meters.op_profile",
    "drnet_edge.bench.meters.resident",
    "drnet_edge.bench.meters.thermal",
    "drnet_edge.bench.paths",  # the registry of ways to measure, one class each
    "drnet_edge.bench.paths.base",
    "drnet_edge.bench.paths.local",
    "drnet_edge.bench.paths.local_runs",
    "drnet_edge.bench.paths.android",
    "drnet_edge.bench.paths.android_run",
    "drnet_edge.bench.paths.parsers",
    "drnet_edge.bench.paths.app",
    "drnet_edge.bench.paths.board",
    "drnet_edge.bench.paths.board_run",
    "drnet_edge.bench.report",
    "drnet_edge.bench.report.markdown",
    "drnet_edge.bench.report.plot",
    "drnet_edge.bench.report.tables",
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
    (JSON), with what it said on stderr under ``"stderr"`` (the end of it)."""
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr[-3000:]
    return {**json.loads(done.stdout.strip().splitlines()[-1]), "stderr": done.stderr[-3000:]}


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
    assert said["exit"] == 0 and said["torch_modules"] == [], said


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


@pytest.mark.slow
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


# -- #30: every option each deploy-side command documents, with PyTorch blocked ---------------------
# The runs of a group execute one after another in one torch-blocked interpreter; together the groups
# pass every option of predict, eval, calibrate and bench at least once, except those below that need
# the build side or another test's stand-in (each with why). A new option fails the coverage test until
# it is run here or listed.
NOT_DEPLOY_SIDE = {
    ("eval", "--model"): "a checkpoint: the build side (PyTorch)",
    ("eval", "--backbone"): "a plain timm backbone: the build side",
    ("eval", "--weights"): "a state dict for --backbone: the build side",
    ("eval", "--baseline"): "a plain checkpoint: the build side",
    ("calibrate", "--model"): "a checkpoint: the build side",
    ("predict", "--model"): "a checkpoint through PyTorch: the build side (test_predict_on_a_checkpoint_...)",
    ("bench", "--ssh-option"): "boards: tests/test_board.py runs them against the scripted ssh",
    ("bench", "--remote-venv"): "boards: tests/test_board.py",
    ("bench", "--wheel"): "boards: tests/test_board.py",
    ("bench", "--board"): "boards: tests/test_board.py",
}
CLASSES_FILE = "cat cat\ndog dog\nfox fox\n"
DEPLOY_MATRIX = {
    "predict": [
        ["predict", "--artifacts", "{cal}", "{photos}", "--runtime", "tflite", "--policy", "default", "--top", "2",
         "--threads", "1", "--skip-bad", "--json", "{tmp}/p.json", "--quiet"],
    ],
    "eval": [
        # the documented --policies on converted files (the defect: it asked for PyTorch)
        ["eval", "--artifacts", "{cal}", "--runtime", "tflite", "--data", "{photos}", "--policies",
         "fixed,default,drnet,random,oracle,oracle-agree,cascade-48:0.5-64", "--quiet"],
        ["eval", "--artifacts", "{cal}", "--runtime", "tflite", "--data", "{photos}", "--resolutions", "64,48",
         "--subset", "train:0/2", "--classes", "{tmp}/classes.txt", "--limit", "5", "--batch-size", "2",
         "--threads", "1", "--skip-bad", "--json", "{tmp}/e.json", "--plot", "{tmp}/e.png"],
    ],
    "calibrate": [
        ["calibrate", "--artifacts", "{art}", "--runtime", "tflite", "--data", "{photos}", "--out", "{tmp}/c1",
         "--max-drop", "50", "--require-bound", "--folds", "2", "--min-photos", "0", "--threads", "1", "--quiet"],
        ["calibrate", "--artifacts", "{art}", "--runtime", "tflite", "--data", "{photos}", "--out", "{tmp}/c2",
         "--target-ratio", "0.9", "--folds", "2", "--min-photos", "4", "--subset", "train:0/4", "--classes",
         "{tmp}/classes.txt", "--limit", "10", "--skip-bad", "--json", "{tmp}/c.json"],
    ],
    "bench-local": [
        ["bench", "--artifacts", "{cal}", "--device", "local", "--runtime", "tflite", "--data", "{photos}",
         "--limit", "6", "--subset", "train:0/2", "--threads", "1", "--runs", "2", "--warmup", "0", "--energy",
         "--idle", "0.5", "--skip-bad", "--policies", "cascade-48:0.5-64,drnet-escalate:0.5", "--op-profile",
         "--json", "{tmp}/b.json", "--report", "{tmp}/b.md", "--plot", "{tmp}/b.png", "--quiet"],
    ],
    "bench-phone": [  # the scripted adb (tests/data/adb/fake_adb): the phone's benchmark tools
        ["bench", "--artifacts", "{cal}", "--device", "pixel7", "--runtime", "tflite", "--data", "{photos}",
         "--runs", "4", "--rounds", "2", "--cooldown", "0", "--warmup", "1", "--energy", "--idle", "0.5",
         "--profiles", "{tmp}/profiles.json", "--benchmark-binary", "{tmp}/benchmark_model", "--delegate", "cpu",
         "--max-temp", "45", "--temp-timeout", "1", "--json", "{tmp}/phone.json", "--quiet"],
        ["bench", "--artifacts", "{cal}", "--device", "pixel7", "--data", "{photos}", "--runs", "4", "--json",
         "{tmp}/phone.json", "--resume", "--quiet"],  # nothing left to measure: the report is kept
    ],
    "bench-app": [  # the scripted adb: the installed demo app
        ["bench", "--artifacts", "{cal}", "--device", "pixel7", "--data", "{photos}", "--app", "--app-timeout",
         "5", "--limit", "6", "--runs", "4", "--warmup", "1", "--json", "{tmp}/app.json", "--quiet"],
    ],
}  # fmt: skip

_RUN_MANY = (
    BLOCKER
    + """
import json

from drnet_edge.cli import main

codes = [main(args) for args in json.loads(sys.argv[1])]
print(json.dumps({"exits": codes, "torch_modules": loaded_blocked()}))
"""
)


@pytest.fixture(scope="module")
def calibrated_tflite(int8_tflite, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The int8 TFLite files with a calibrated default policy in their manifest (for --policies default)."""
    from drnet_edge.calibrate import calibrate

    art, photos = int8_tflite
    out = tmp_path_factory.mktemp("calibrated") / "art"
    calibrate(None, str(photos), str(out), artifacts=str(art), runtime="tflite", max_drop=50.0, min_photos=0,
              folds=2, progress=False)  # fmt: skip
    return out


def _documented_options(command: str) -> set[str]:
    import typer.main

    from drnet_edge.cli import app

    group = typer.main.get_command(app)
    return {o for p in group.commands[command].params for o in p.opts if o.startswith("--")}  # type: ignore[attr-defined]


@pytest.mark.parametrize("command", ["predict", "eval", "calibrate", "bench"])
def test_the_matrix_passes_every_documented_option(command: str) -> None:
    used = {a for group, runs in DEPLOY_MATRIX.items() if group.startswith(command) for run in runs for a in run}
    exempt = {opt for (cmd, opt) in NOT_DEPLOY_SIDE if cmd == command}
    missing = sorted(_documented_options(command) - used - exempt - {"--help"})
    assert missing == [], f"{command}: options no deploy-side run passes (run them in DEPLOY_MATRIX or say why not)"


@pytest.mark.parametrize("group", list(DEPLOY_MATRIX))
def test_every_deploy_side_option_runs_without_torch(
    group: str, int8_tflite, calibrated_tflite: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    art, photos = int8_tflite
    (tmp_path / "classes.txt").write_text(CLASSES_FILE)
    (tmp_path / "profiles.json").write_text(json.dumps({"profiles": {}}))
    (tmp_path / "benchmark_model").write_bytes(b"\x7fELF stand-in")
    if group.startswith("bench-") and group != "bench-local":
        from .test_bench import ADB_DATA  # the scripted phone, as the phone bench tests set it up

        bindir, state = tmp_path / "bin", tmp_path / "phone"
        bindir.mkdir()
        state.mkdir()
        (bindir / "adb").symlink_to(ADB_DATA / "fake_adb")
        scenario = {
            "devices": "devices_pixel7.txt",
            "props": {"ro.product.model": "Pixel 7", "ro.product.manufacturer": "Google", "ro.soc.model": "GS201",
                      "ro.build.version.release": "14"},
            "latency_us": {"predictor.tflite": 900, "backbone_64.tflite": 8000, "backbone_48.tflite": 4500},
            "active_mw": {"S2M_VDD_CPUCL2": 1500.0},
            "device_binaries": ["/data/local/tmp/benchmark_model"],
            "app_installed": True,
        }  # fmt: skip
        (tmp_path / "scenario.json").write_text(json.dumps(scenario))
        mp = request.getfixturevalue("monkeypatch")
        mp.setenv("PATH", f"{bindir}:{os.environ['PATH']}")
        mp.delenv("ADB", raising=False)
        mp.setenv("FAKE_ADB_STATE", str(state))
        mp.setenv("FAKE_ADB_SCENARIO", str(tmp_path / "scenario.json"))
        mp.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    runs = [[a.format(art=art, cal=calibrated_tflite, photos=photos, tmp=tmp_path) for a in run]
            for run in DEPLOY_MATRIX[group]]  # fmt: skip
    said = run_without_torch(_RUN_MANY, json.dumps(runs))
    assert said["exits"] == [0] * len(runs) and said["torch_modules"] == [], said


# -- #31: the deploy/build line in the tree ------------------------------------------------------------
BUILD_SIDE_IMPORTS = ("torch", "torchvision", "timm", "onnx2tf", "litert_torch", "drnet_edge.models",
                      "drnet_edge.train", "drnet_edge.convert", "drnet_edge.data.augment")  # fmt: skip


def _imports(path: Path, package: str) -> set[str]:
    """Every module ``path`` imports, at any depth (inside functions too), relative names resolved."""
    import ast

    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            base = base[: len(base) - node.level + 1] if node.level else []
            mod = ".".join([*base, *([node.module] if node.module else [])])
            found |= {mod} | {f"{mod}.{a.name}" for a in node.names}
    return found


@pytest.mark.parametrize("layer", ["runtime", "policy"])
def test_runtime_and_policy_import_nothing_of_the_build_side(layer: str) -> None:
    """No module of runtime/ or policy/ imports PyTorch, an export tool or a build-side module, not even
    lazily inside a function (the build side opens its models through runtime.source's openers)."""
    pkg = Path(__file__).resolve().parents[1] / "drnet_edge" / layer
    bad = {
        f"{p.name}: {m}"
        for p in pkg.rglob("*.py")
        for m in _imports(p, ".".join(("drnet_edge", layer, *p.relative_to(pkg).parent.parts)))
        if any(m == b or m.startswith(b + ".") for b in BUILD_SIDE_IMPORTS)
    }
    assert sorted(bad) == []


# what only exporting needs: the export tools, and the exporters that import them
EXPORT_TOOLS = ("onnx", "onnxsim", "onnx2tf", "litert_torch", "torchao", "tensorflow", "tf_keras",
                "executorch.exir", "executorch.backends", "onnxruntime.quantization", "drnet_edge.converters.export")  # fmt: skip
CONVERTERS = Path(__file__).resolve().parents[1] / "converters"


def test_every_converters_module_outside_export_is_listed() -> None:
    """converters/ outside export/ (the registry and the loaders) is deploy side: each module is listed."""
    found = {
        ".".join(("drnet_edge", "converters", *p.relative_to(CONVERTERS).with_suffix("").parts)).removesuffix(
            ".__init__"
        )
        for p in CONVERTERS.rglob("*.py")
        if "export" not in p.relative_to(CONVERTERS).parts
    }
    assert "drnet_edge.converters.load.tflite" in found
    assert sorted(found - set(DEPLOY_MODULES)) == []


def test_loaders_and_registry_import_nothing_of_the_build_side() -> None:
    """The loaders (converters/load/) and the registry import no export tool, no exporter and no
    build-side module, not even lazily inside a function, and no PyTorch, but for the one loader whose
    runtime takes torch tensors (ExecuTorch's Python runtime imports torch itself) and the type hints of
    ``Target.export`` (under ``TYPE_CHECKING``: never at run time, as the import test above shows).
    ``Target.export`` reaches its exporter by name (importlib), on the build side only."""
    allowed = {"load/executorch_xnnpack.py": {"torch"}, "base.py": {"torch", "torch.nn"}}
    bad = set()
    for p in CONVERTERS.rglob("*.py"):
        rel = p.relative_to(CONVERTERS)
        if "export" in rel.parts:
            continue
        for m in _imports(p, ".".join(("drnet_edge", "converters", *rel.parent.parts))):  # the file's package
            if m in allowed.get(rel.as_posix(), set()):
                continue
            if any(m == b or m.startswith(b + ".") for b in (*BUILD_SIDE_IMPORTS, *EXPORT_TOOLS)):
                bad.add(f"{rel.as_posix()}: {m}")
    assert sorted(bad) == []


def test_the_loop_reads_only_the_runnable_interface(int8_tflite, tiny) -> None:
    """The deployed loop (runtime.loop.Pipeline) and evaluation read nothing of a model beyond
    RunnableDRNet: a proxy that exposes only the Protocol's members runs both; ArtifactDRNet and the
    build side's TorchRunnable implement the whole Protocol."""
    import numpy as np

    from drnet_edge.data.folders import scan_folder
    from drnet_edge.data.preprocess import load_image
    from drnet_edge.models.runnable import TorchRunnable
    from drnet_edge.runtime.interface import RunnableDRNet
    from drnet_edge.runtime.loop import Pipeline
    from drnet_edge.runtime.outputs import predict_folder
    from drnet_edge.runtime.source import ModelSource, open_model

    art_dir, photos = int8_tflite
    art, _ = open_model(ModelSource(artifacts=art_dir))
    members = {n for n in dir(RunnableDRNet) if not n.startswith("_")} | set(RunnableDRNet.__annotations__)

    class OnlyTheInterface:
        def __getattr__(self, name: str) -> object:
            if name not in members:
                raise AssertionError(f"read {name}, which RunnableDRNet does not declare")
            return getattr(art, name)

    proxy = OnlyTheInterface()
    photo = sorted(photos.rglob("*.png"))[0]
    for spec in ({"kind": "drnet"}, {"kind": "fixed", "resolution_index": 0}):
        a, b = Pipeline("p", spec, proxy)(load_image(photo)), Pipeline("p", spec, art)(load_image(photo))  # type: ignore[arg-type]
        assert (a.top1, a.final, a.ran) == (b.top1, b.final, b.ran)
    got, _ = predict_folder(proxy, scan_folder(photos), art.resolutions, art.preprocess, progress=False)  # type: ignore[arg-type]
    ref, _ = predict_folder(art, scan_folder(photos), art.resolutions, art.preprocess, progress=False)
    assert np.array_equal(got.top1, ref.top1)
    assert isinstance(art, RunnableDRNet)
    torch_model, _ = open_model(ModelSource(model=tiny[0]))
    assert isinstance(torch_model, TorchRunnable) and isinstance(torch_model, RunnableDRNet)


# where a model may be built for running: the openers of runtime.source (and convert's export, which loads the
# checkpoint to export it, not to run it)
MODEL_BUILDERS = {"ArtifactDRNet": {"runtime/artifacts.py"}, "load_model": {"models/runnable.py", "convert.py"},
                  "TorchRunnable": {"models/runnable.py", "convert.py"}}  # fmt: skip


def test_one_door_to_a_model() -> None:
    """#31: eval, calibrate, predict and the bench open models through runtime.source.open_model: no other
    module of the package builds an ArtifactDRNet or loads a checkpoint to run it."""
    import ast

    pkg = Path(__file__).resolve().parents[1] / "drnet_edge"
    found = set()
    for path in [*pkg.rglob("*.py"), *(pkg.parent / "converters").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                f = node.func
                name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None
                rel = str(path.relative_to(pkg)) if path.is_relative_to(pkg) else f"converters/{path.name}"
                if name in MODEL_BUILDERS and rel not in MODEL_BUILDERS[name]:
                    found.add(f"{rel}: {name}(...)")
    assert sorted(found) == []
