"""``drnet-edge verify``: the userland cache and its stamp, one-line errors for what is missing (qemu,
binfmt, root, the userland: simulated through fake paths, never the real binfmt registration), the
worker's file protocol and the result schema (the worker run natively on a tiny int8 TFLite model), and
an opt-in tier (``pytest -m arm64``) that runs the real emulated check when the userland is already
built and binfmt registered. No test builds a userland or registers anything."""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

import numpy as np
import pytest
import torch

from drnet_edge.cli import main
from drnet_edge.convert import convert
from drnet_edge.data.classes import ClassList
from drnet_edge.errors import ConfigError
from drnet_edge.models.backbones import TF_LITE_PREPROCESS, create_backbone
from drnet_edge.models.checkpoint import make_checkpoint, save_checkpoint
from drnet_edge.models.drnet import DRNet
from drnet_edge.verify import userland as ul
from drnet_edge.verify.check import VerifyOptions, run_verify, write_job
from drnet_edge.verify.score import compare_outputs

from .conftest import CLASSES

# -- the userland cache ------------------------------------------------------------------------------


def fake_userland(root: Path, **stamp) -> Path:
    """A folder that looks like a finished userland (the venv's python and the stamp)."""
    py = root / ul.VENV.lstrip("/") / "bin" / "python3"
    py.parent.mkdir(parents=True)
    py.write_text("")
    (root / ul.STAMP).write_text(json.dumps({"suite": "bookworm", "built": "2026-12-01", "pip": {}, **stamp}))
    return root


def fake_binfmt(folder: Path, flags: str = "F", enabled: bool = True, registered: bool = True) -> Path:
    folder.mkdir()
    (folder / "register").write_text("")
    if registered:
        state = "enabled" if enabled else "disabled"
        (folder / ul.HANDLER).write_text(
            f"{state}\ninterpreter /usr/bin/qemu-aarch64-static\nflags: {flags}\noffset 0\n"
        )
    return folder


def fake_qemu(folder: Path) -> str:
    folder.mkdir()
    q = folder / "qemu-aarch64-static"
    q.write_text("#!/bin/sh\n")
    q.chmod(q.stat().st_mode | stat.S_IXUSR)
    return str(folder)


def test_default_root_follows_the_env(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv(ul.ROOT_ENV, str(tmp_path / "land"))
    assert ul.default_root() == tmp_path / "land"
    monkeypatch.delenv(ul.ROOT_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert ul.default_root() == tmp_path / "cache" / "drnet-edge" / "aarch64-bookworm"


def test_userland_found_only_with_its_stamp(tmp_path: Path) -> None:
    assert ul.find_userland(tmp_path / "none") is None
    half = tmp_path / "half"
    (half / "opt").mkdir(parents=True)
    assert ul.find_userland(half) is None  # an interrupted build: no stamp
    with pytest.raises(ConfigError, match="incomplete") as e:
        ul.require_userland(half)
    assert "\n" not in str(e.value) and "--setup" in str(e.value)
    land = ul.find_userland(fake_userland(tmp_path / "land", pip={"ai-edge-litert": "2.3.0"}))
    assert land is not None and land.package("ai_edge_litert") == "2.3.0" and land.package("executorch") is None
    assert land.python == f"{ul.VENV}/bin/python3"


def test_ensure_reuses_a_built_userland(monkeypatch, tmp_path: Path) -> None:
    """Cached userland, qemu and binfmt present: reused, nothing built (setup or not)."""
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(ul, "build_userland", lambda *a, **k: pytest.fail("must not build"))
    root = fake_userland(tmp_path / "land")
    said: list[str] = []
    land = ul.ensure_userland(
        root, setup=False, log=said.append, log_file=tmp_path / "log",
        binfmt_dir=fake_binfmt(tmp_path / "binfmt"), search_path=fake_qemu(tmp_path / "bin"),
    )  # fmt: skip
    assert land.root == root and "reusing" in said[0]


@pytest.mark.parametrize(
    "binfmt, qemu, euid, message",
    [
        ({}, False, 0, "apt-get install qemu-user-static"),
        (None, True, 0, "binfmt_misc is not mounted"),
        ({"registered": False}, True, 0, "not registered"),
        ({"enabled": False}, True, 0, "disabled"),
        ({"flags": "OC"}, True, 0, "lacks the F flag"),
        ({}, True, 1000, "needs root"),
        ({}, True, 0, "does not exist"),  # everything there but the userland
    ],
    ids=["no-qemu", "binfmt-unmounted", "unregistered", "disabled", "no-F-flag", "not-root", "no-userland"],
)
def test_what_is_missing_is_said_in_one_line(monkeypatch, tmp_path: Path, binfmt, qemu, euid, message) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: euid)
    binfmt_dir = tmp_path / "binfmt"
    if binfmt is None:
        binfmt_dir.mkdir()
    else:
        fake_binfmt(binfmt_dir, **binfmt)
    search = fake_qemu(tmp_path / "bin") if qemu else str(tmp_path)
    with pytest.raises(ConfigError, match=message) as e:
        ul.ensure_userland(
            tmp_path / "land", setup=False, log=print, log_file=tmp_path / "log",
            binfmt_dir=binfmt_dir, search_path=search,
        )  # fmt: skip
    assert "\n" not in str(e.value)
    assert not (tmp_path / "land").exists()  # nothing built


def test_the_project_is_installed_once_per_wheel(monkeypatch, tmp_path: Path) -> None:
    """A userland whose stamp names this very wheel (by content) is used as it is: nothing probed or run."""
    from drnet_edge.wheelhouse import wheel_digest

    wheel = _tiny_wheel(tmp_path / "drnet_edge-0.1.0-py3-none-any.whl")
    project = {"wheel": wheel.name, "digest": wheel_digest(wheel), "installed": "2026-12-05"}
    land = ul.find_userland(fake_userland(tmp_path / "land", project=project))
    monkeypatch.setattr(ul.subprocess, "run", lambda *a, **k: pytest.fail("must not run anything"))
    assert ul.install_project(land, wheel, wheels=tmp_path / "w", log=print, log_file=tmp_path / "log") is land


def _tiny_wheel(path: Path) -> Path:
    import zipfile

    with zipfile.ZipFile(path, "w") as z:
        z.writestr("drnet_edge/__init__.py", "")
    return path


def test_the_emulated_cpu_is_shown_as_plain_files(tmp_path: Path) -> None:
    """XNNPACK's cpuinfo needs /proc/cpuinfo and the /sys CPU lists: written per CPU model, never mounted."""
    from drnet_edge.verify.check import CPU_MODELS

    land = ul.find_userland(fake_userland(tmp_path / "land"))
    ul.show_cpu(land, CPU_MODELS["pixel7"].cpuinfo())
    info = (land.root / "proc" / "cpuinfo").read_text()
    assert "CPU part\t: 0xd0b" in info and "CPU implementer\t: 0x41" in info  # Cortex-A76
    assert (land.root / "sys/devices/system/cpu/possible").read_text() == "0\n"
    cmd, env = ul.userland_command(land, ["/opt/x"], {"QEMU_CPU": "cortex-a76"})
    assert cmd == ["chroot", str(land.root), "/opt/x"] and env["QEMU_CPU"] == "cortex-a76" and "VIRTUAL_ENV" not in env


def test_setup_installs_missing_tools_with_apt(monkeypatch, tmp_path: Path) -> None:
    """--setup on Debian: apt-get install what is missing (the call is faked; nothing is installed)."""
    calls = []
    monkeypatch.setattr(ul.shutil, "which", lambda cmd, path=None: "/usr/bin/apt-get" if cmd == "apt-get" else None)
    monkeypatch.setattr(ul.subprocess, "run", lambda args, **k: calls.append(args) or type("R", (), {"returncode": 0}))
    ul.install_tools(print)
    assert calls == [["apt-get", "install", "-y", "-q", "qemu-user-static", "debootstrap"]]


# -- scoring -----------------------------------------------------------------------------------------


def test_compare_outputs() -> None:
    host = np.array([[3.0, 1.0, 0.0], [0.0, 2.0, 1.9], [1.0, 0.0, 0.0]], dtype=np.float32)
    arm = host.copy()
    arm[1] = [0.0, 1.9, 2.0]  # a near tie flips
    r = compare_outputs(host, arm, np.array([0, 1, 0]), ["a", "b", "c"])
    assert r["agreement"] == pytest.approx(2 / 3) and r["disagreements"] == 1 and r["below_floor"]
    assert r["top1_host"] == 1.0 and r["top1_arm"] == pytest.approx(2 / 3)
    assert r["max_abs_diff"] == pytest.approx(0.1) and r["disagreeing_images"] == ["b"]
    assert r["worst"]["image"] == "b" and r["bit_exact_share"] == pytest.approx(2 / 3)
    assert compare_outputs(host, arm[:2], None, [])["ok"] is False


# -- the worker, natively on this host ------------------------------------------------------------------


@pytest.fixture(scope="module")
def int8_tflite(tiny, tmp_path_factory) -> Path:
    """One tiny int8 TFLite backbone (resnet10t at 48 px, no predictor): the cheapest real artifacts."""
    root = tmp_path_factory.mktemp("verify")
    torch.manual_seed(0)
    backbone = create_backbone("resnet10t", pretrained=False, num_classes=len(CLASSES)).eval()
    net = DRNet(backbone, [48], None, TF_LITE_PREPROCESS, backbone_name="resnet10t")
    ckpt = save_checkpoint(
        root / "one.pt", make_checkpoint(net, ClassList(CLASSES, CLASSES, "test"), include_backbone=True)
    )
    out = root / "art"
    convert(ckpt, targets=["tflite"], out=out, int8=True, quant_data=tiny[1], quant_count=4, log=lambda m: None)
    return out


def _no_timing(obj, where: str = "") -> None:
    """No key of the report names a time, a latency or an energy."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            timed = k.endswith(("_ms", "_s")) or any(w in k.lower() for w in ("latency", "energy", "time", "second"))
            assert not timed, where + k
            _no_timing(v, f"{where}{k}.")
    elif isinstance(obj, list):
        for v in obj:
            _no_timing(v, where)


def test_worker_natively_reproduces_the_host(int8_tflite: Path, tiny) -> None:
    report = run_verify(VerifyOptions([int8_tflite], arch="host", data=tiny[1], limit=5, progress=False, log=print))
    assert report["arch"] == "host" and report["emulated"] is False and report["n"] == 5 and report["labelled"]
    (model,) = report["models"]
    assert model["target"] == "tflite" and model["precision"] == "int8" and model["model"] == "backbone_48"
    assert model["quantization"]["input"]["dtype"] == "int8" and model["quantization"]["input"]["scale"]
    r = model["cpus"]["host"]
    assert r["ok"] and r["agreement"] == 1.0 and r["max_abs_diff"] == 0.0 and r["delegate"].startswith("XNNPACK")
    (policy,) = report["policies"]
    assert policy["policy"] == "fixed-48" and policy["cpus"]["host"]["agreement"] == 1.0
    assert set(report["cpus"]["host"]["versions"]) >= {"numpy", "ai-edge-litert"}
    _no_timing(report)
    json.dumps(report)  # plain JSON


def test_worker_reports_a_failing_model_and_runs_the_rest(int8_tflite: Path, tmp_path: Path) -> None:
    import subprocess
    import sys

    from drnet_edge.runtime.manifest import read_manifest
    from drnet_edge.verify.check import _Target

    m = read_manifest(int8_tflite)
    t = _Target(int8_tflite, m, m.targets["tflite"])
    job = tmp_path / "job"
    inputs = {"p0_48": np.zeros((2, 3, 48, 48), dtype=np.float32)}
    models = write_job(job, [t], inputs, {"tflite"}, threads=1)
    request = json.loads((job / "request.json").read_text())
    bad = dict(models[0], id="broken", file="models/missing.tflite")
    request["models"] = [bad, models[0], dict(models[0], id="odd", kind="coreml")]
    (job / "request.json").write_text(json.dumps(request))
    subprocess.run([sys.executable, "-m", "drnet_edge.verify.worker", str(job)], check=True, capture_output=True)
    result = json.loads((job / "result.json").read_text())
    assert not result["models"]["broken"]["ok"] and "unknown model kind" in result["models"]["odd"]["error"]
    ok = result["models"][models[0]["id"]]
    assert ok["ok"] and np.load(job / "outputs.npz")[ok["key"]].shape == (2, len(CLASSES))
    assert result["cpu"]["machine"] and "timing" not in json.dumps(result)


def test_cli_verify_host(int8_tflite: Path, tiny, tmp_path: Path, capsys) -> None:
    out = tmp_path / "v.json"
    code = main(["verify", "--artifacts", str(int8_tflite), "--arch", "host", "--data", str(tiny[1]), "--limit", "3",
                 "--quiet", "--json", str(out), "--report", str(tmp_path / "v.md")])  # fmt: skip
    assert code == 0
    assert json.loads(out.read_text())["n"] == 3
    md = (tmp_path / "v.md").read_text()
    assert "| backbone_48 | host |" in md and "not an ARM check" in md


def test_cli_verify_refuses_before_work(int8_tflite: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    assert main(["verify", "--artifacts", str(int8_tflite), "--cpu", "pentium"]) == 2
    assert "unknown CPU model" in capsys.readouterr().err
    assert main(["verify", "--artifacts", str(int8_tflite), "--arch", "riscv"]) == 2
    assert "--arch riscv" in capsys.readouterr().err
    assert main(["verify", "--artifacts", str(int8_tflite), "--wheel", str(tmp_path / "x.whl")]) == 2
    assert "--wheel" in capsys.readouterr().err
    # aarch64 with no userland at a fresh root: one line (whichever part is missing on this machine first)
    monkeypatch.setenv(ul.ROOT_ENV, str(tmp_path / "no-land"))
    assert main(["verify", "--artifacts", str(int8_tflite), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "\n" not in err
    assert any(w in err for w in ("root", "qemu", "binfmt", "userland"))
    assert not (tmp_path / "no-land").exists()


# -- opt-in: the real emulated run (pytest -m arm64) ---------------------------------------------------


# The real userland, resolved at import: the autouse fixture points XDG_CACHE_HOME at a temporary folder.
REAL_ROOT = ul.default_root()


def _emulation_missing() -> str | None:
    if shutil.which("qemu-aarch64-static") is None:
        return "qemu-aarch64-static is not installed"
    if os.geteuid() != 0:
        return "the emulated check runs in a chroot: needs root"
    if not ul.read_binfmt().ok:
        return "qemu's aarch64 binfmt handler (flag F) is not registered (make arm64-check does it)"
    if ul.find_userland(REAL_ROOT) is None:
        return f"no aarch64 userland at {REAL_ROOT} (make arm64-check builds it; tests never do)"
    return None


@pytest.mark.arm64
def test_emulated_aarch64_check(int8_tflite: Path, tiny, request) -> None:
    if "arm64" not in (request.config.getoption("-m") or ""):
        pytest.skip("opt-in tier: run with pytest -m arm64")
    missing = _emulation_missing()
    if missing:
        pytest.skip(missing)
    opts = VerifyOptions([int8_tflite], data=tiny[1], limit=2, cpus=["pixel7"], root=REAL_ROOT, progress=False)
    report = run_verify(opts)
    cpu = report["cpus"]["pixel7"]
    assert report["emulated"] and cpu["seen"]["machine"] == "aarch64" and cpu["seen"]["features"]["asimddp"]
    r = report["models"][0]["cpus"]["pixel7"]
    assert r["ok"] and r["n"] == 2 and r["max_abs_diff"] < 1.0
    _no_timing(report)
