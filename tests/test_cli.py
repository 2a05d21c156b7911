"""The CLI end to end on the bundled sample with real Lite0 weights, and its error paths."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import run_cli, write_image


def run(*args: str) -> subprocess.CompletedProcess:
    """The entry point in a fresh interpreter: one test per command runs it so; the error paths run
    in-process (:func:`run_cli`, same messages and exit codes, no interpreter start each)."""
    return subprocess.run([sys.executable, "-m", "drnet_edge", *args], capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_eval_bundled_sample_json_and_plot(tmp_path: Path) -> None:
    js, png = tmp_path / "r.json", tmp_path / "r.png"
    p = run(
        "eval", "--backbone", "efficientnet_lite0", "--limit", "8", "--resolutions", "128,96", "--quiet",
        "--policies", "fixed,oracle,oracle-agree", "--json", str(js), "--plot", str(png),
    )  # fmt: skip
    assert p.returncode == 0, p.stderr
    assert "fixed-128" in p.stdout and "upper bound" in p.stdout
    report = json.loads(js.read_text())
    assert report["n"] == 8 and report["backbone"] == "efficientnet_lite0" and report["resolutions"] == [128, 96]
    for name in ("fixed-128", "fixed-96", "oracle", "oracle-agree"):
        pol = report["policies"][name]
        assert 0 <= pol["top1"] <= 1 and pol["macs_m"] > 0 and sum(pol["resolution_share"].values()) == pytest.approx(1)
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert not list(tmp_path.glob(".*.tmp"))  # atomic writes leave no temp files


def test_skip_bad_counts_corrupt_images(tmp_path: Path) -> None:
    root = tmp_path / "d"
    write_image(root / "n01440764" / "good.png", size=(64, 64))
    (root / "n01440764" / "broken.jpg").write_bytes(b"\xff\xd8\xffjunk")
    p = run_cli("eval", "--backbone", "efficientnet_lite0", "--data", str(root), "--resolutions", "96", "--quiet")
    assert p.returncode == 2 and "broken.jpg" in p.stderr and "Traceback" not in p.stderr
    p = run_cli(
        "eval",
        "--backbone",
        "efficientnet_lite0",
        "--data",
        str(root),
        "--resolutions",
        "96",
        "--quiet",
        "--skip-bad",
        "--json",
        str(tmp_path / "r.json"),
    )
    assert p.returncode == 0, p.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["n"] == 1 and report["skipped_bad"]["count"] == 1


@pytest.mark.parametrize(
    "args, message",
    [
        (["--data", "/nonexistent/dir"], "does not exist"),
        (["--resolutions", "224,abc"], "--resolutions"),
        (["--policies", "fixed,magic"], "unknown policy 'magic'"),
        (["--backbone", "no_such_net"], "unknown backbone"),
        (["--weights", "/nonexistent/w.pth"], "--weights"),
        (["--backbone", "resnet50"], "--weights PATH"),
    ],
)
def test_user_mistakes_are_messages_not_tracebacks(args: list[str], message: str) -> None:
    p = run_cli("eval", "--quiet", "--limit", "2", *args)
    assert p.returncode == 2
    assert message in p.stderr and "Traceback" not in p.stderr


def test_backbones_command_lists_registry() -> None:
    p = run("backbones")
    assert p.returncode == 0 and "efficientnet_lite0" in p.stdout and "resnet50" in p.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["train", "--data", "/nonexistent", "--out", "{tmp}/x.pt"], "does not exist"),
        (["train", "--data", ".", "--out", "{tmp}/x.pt", "--mode", "magic"], "--mode must be one of"),
        (["train", "--data", ".", "--out", "{tmp}/x.pt", "--resolutions", "224"], "at least two"),
        (["eval", "--model", "/nonexistent/model.pt"], "does not exist"),
        (["eval", "--backbone", "efficientnet_lite0", "--policies", "drnet"], "need a DRNet model"),
        (["eval", "--model", "lite0-imagewoof", "--policies", "baseline"], "--baseline"),
    ],
)
def test_train_and_model_mistakes(args: list[str], message: str, tmp_path: Path) -> None:
    # --out in a fresh folder: a shared /tmp/x.pt left by anything else is refused first (--out exists)
    p = run_cli(*(a.format(tmp=tmp_path) for a in args), "--quiet")
    assert p.returncode == 2, p.stderr
    assert message in p.stderr and "Traceback" not in p.stderr


def test_convert_old_quantisation_flags_still_work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--calib and --calib-count, the old names of --quant-data and --quant-count (not policy
    calibration), still work with a one-line notice each, hidden from --help; beside the new name refused."""
    import drnet_edge.convert

    seen: dict = {}
    monkeypatch.setattr(
        drnet_edge.convert, "convert", lambda model, **kw: seen.update(kw) or {"atol_fp32": 0, "targets": {}}
    )
    photos = tmp_path / "photos"
    photos.mkdir()
    p = run_cli("convert", "--out", str(tmp_path / "art"), "--calib", str(photos), "--calib-count", "7")
    assert p.returncode == 0, p.stderr
    assert (seen["quant_data"], seen["quant_count"]) == (photos, 7)
    assert [line for line in p.stderr.splitlines() if "--calib" in line] == [
        "notice: --calib is now --quant-data",
        "notice: --calib-count is now --quant-count",
    ]
    p = run_cli("convert", "--out", str(tmp_path / "art"), "--calib", str(photos), "--quant-data", str(photos))
    assert p.returncode == 2 and "--calib is the old name of --quant-data" in p.stderr, p.stderr
    help_text = run_cli("convert", "--help").stdout
    assert "--quant-data" in help_text and "--quant-count" in help_text and "--calib" not in help_text


@pytest.mark.slow
def test_default_model_is_the_bundled_drnet(tmp_path: Path) -> None:
    js = tmp_path / "r.json"
    p = run_cli("eval", "--limit", "6", "--quiet", "--json", str(js))
    assert p.returncode == 0, p.stderr
    report = json.loads(js.read_text())
    assert report["model"] == "lite0-imagenet" and report["resolutions"] == [224, 192, 160, 128]
    default = report["default_policy"]  # calibrated, recorded in the bundled checkpoint
    assert default and {default, f"random-{default}", "fixed-224", "fixed-128"} <= set(report["policies"])
    assert report["policies"][default]["macs_m"] == report["policies"][f"random-{default}"]["macs_m"]
    assert 0 < report["predictor_macs_m"] < 0.05 * report["policies"]["fixed-224"]["macs_m"]
    p = run_cli("eval", "--limit", "2", "--quiet", "--resolutions", "128,96")
    assert p.returncode == 2 and "--backbone" in p.stderr  # says how to evaluate other resolutions


def test_bundled_models_listed_and_checked() -> None:
    p = run("models")
    assert p.returncode == 0 and "lite0-imagewoof-base" in p.stdout


def test_eval_bundled_drnet_with_baseline(tmp_path: Path) -> None:
    """A bundled DRNet on a few bundled photos mapped to its own classes by wnid is refused
    (those photos are not dog breeds) with a message naming the folder."""
    p = run_cli("eval", "--model", "lite0-imagewoof", "--quiet", "--limit", "4")
    assert p.returncode == 2 and "unknown wnid" in p.stderr
