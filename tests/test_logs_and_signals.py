"""Issue #30: every bench warning in every output form; Ctrl-C during training answers at once and
stops after the batch; third-party logs in the cache folder, pruned, and named only when they matter."""

from __future__ import annotations

import importlib
import os
import signal
import sys
import tempfile
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from drnet_edge.cli import app

runner = CliRunner()
BUSY = "the machine was busy"
MESSAGE = "stopping after this batch; Ctrl-C again to stop now"  # on stderr at the first Ctrl-C


def _temp_logs() -> set[Path]:
    return set(Path(tempfile.gettempdir()).glob("drnet-edge-*.log"))


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cache folder of this test's own (conftest already keeps it out of the home)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    return tmp_path / "xdg" / "drnet-edge" / "logs"


@pytest.fixture
def sigint_as_on_a_terminal():
    """Ctrl-C raises KeyboardInterrupt (a background process may have inherited SIGINT ignored)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


# -- defect 6: the busy-machine warning in the report and the plot too ----------------------------


def test_bench_report_and_plot_carry_every_warning(
    tiny_converted, tiny, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import drnet_edge.bench.paths.local

    monkeypatch.setattr(drnet_edge.bench.paths.local, "_others_busy", lambda: 64.0)
    art = tiny_converted("onnx")[0]
    md, png, js = tmp_path / "b.md", tmp_path / "b.png", tmp_path / "b.json"
    args = ["bench", "--quiet", "--artifacts", str(art), "--data", str(tiny[1]), "--limit", "3", "--runs", "1",
            "--warmup", "0", "--report", str(md), "--plot", str(png), "--json", str(js)]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, (result.stderr, result.exception)
    assert any(BUSY in ln for ln in result.stderr.splitlines())  # the console
    assert BUSY in js.read_text()  # the JSON
    report = md.read_text()
    assert f"**Warning**: {BUSY}" in report and "kept 64.0 cores busy before" in report
    assert report.index(BUSY) < report.index("| policy |")  # said before the figures it qualifies
    assert png.stat().st_size > 1000


def test_markdown_and_plot_list_each_warning(tmp_path: Path) -> None:
    """The report function alone: every entry of report["warnings"], in order; none when there is none."""
    import matplotlib

    matplotlib.use("Agg")
    from drnet_edge.bench.report.markdown import markdown
    from drnet_edge.plots import save_plot

    report = {
        "backbone": "b", "runtime": "onnx", "precision": "fp32", "device": {"name": "local", "cpu": "x"},
        "threads": 1, "n": 2, "artifacts": "a", "data": "d", "warmup": 0, "runs": 1, "schedule": "s",
        "energy": {"note": "not measured"}, "models": {}, "reference": "fixed-64", "default_policy": None,
        "policies": {"fixed-64": {"top1": 0.5, "latency_ms": 2.0, "energy_mj": None, "macs_m": 9.0,
                                  "resolution_share": {"64": 1.0}, "escalation_rate": 0}},
        "warnings": ["first warning", "second warning"],
    }  # fmt: skip
    text = markdown(report)
    assert "**Warning**: first warning" in text and "**Warning**: second warning" in text
    assert text.index("first warning") < text.index("second warning")
    assert "Warning" not in markdown({**report, "warnings": []})
    sizes = {}
    for name, warnings in (("with", report["warnings"]), ("without", [])):
        save_plot(tmp_path / f"{name}.png", {**report, "warnings": warnings}, x_key="latency_ms")
        sizes[name] = _png_height(tmp_path / f"{name}.png")
    assert sizes["with"] > sizes["without"]  # the chart grows to hold its footnote


def _png_height(path: Path) -> int:
    return int.from_bytes(path.read_bytes()[20:24], "big")  # the IHDR chunk's height


# -- defect 7: Ctrl-C during a training step ------------------------------------------------------

QUICK_TRAIN = ["train", "--quiet", "--epochs", "2", "--resolutions", "64,48", "--thumb-size", "32", "--workers", "0",
               "--batch-size", "4"]  # fmt: skip


def _stderr_now() -> str:
    sys.stderr.flush()
    return sys.stderr.buffer.getvalue().decode()  # CliRunner's captured stderr


def _ctrl_c_in_step(monkeypatch: pytest.MonkeyPatch, at_call: int, times: int) -> list[str]:
    """Ctrl-C ``times`` times in the ``at_call``-th training step; returns what happened, in order."""
    from drnet_edge.train.step import TrainStep

    events: list[str] = []
    original = TrainStep.forward

    def forward(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        events.append("step")
        if events.count("step") == at_call:
            for k in range(times):
                os.kill(os.getpid(), signal.SIGINT)
                events.append(f"said after {k + 1}" if MESSAGE in _stderr_now() else f"silent after {k + 1}")
        events.append("step returns")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(TrainStep, "forward", forward)
    return events


@pytest.mark.usefixtures("sigint_as_on_a_terminal")
@pytest.mark.parametrize(
    "at_call, says", [(1, "no checkpoint was written"), (3, "holds the last complete epoch (1 of 2)")]
)
def test_first_ctrl_c_says_so_at_once_and_stops_after_the_batch(
    tiny, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, at_call: int, says: str
) -> None:
    """12 photos in batches of 4: three steps an epoch. Ctrl-C in the first step: the line at once, the
    step finishes, no other starts, nothing saved. In the epoch's last step: the epoch is saved first."""
    events = _ctrl_c_in_step(monkeypatch, at_call, times=1)
    result = runner.invoke(app, [*QUICK_TRAIN, "--data", str(tiny[1]), "--out", str(tmp_path / "m.pt")])
    assert result.exit_code == 130, (result.exit_code, result.stderr, result.exception)
    assert events[-3:] == ["step", "said after 1", "step returns"] and events.count("step") == at_call, events
    lines = result.stderr.strip().splitlines()
    assert lines[0] == MESSAGE and len(lines) == 2 and lines[1].startswith("interrupted: "), lines
    assert says in lines[1], lines
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the previous handler is back


@pytest.mark.usefixtures("sigint_as_on_a_terminal")
def test_second_ctrl_c_stops_at_once(tiny, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    events = _ctrl_c_in_step(monkeypatch, 1, times=2)
    result = runner.invoke(app, [*QUICK_TRAIN, "--data", str(tiny[1]), "--out", str(tmp_path / "m.pt")])
    assert result.exit_code == 130, (result.exit_code, result.stderr, result.exception)
    assert events == ["step", "said after 1"], events  # the second Ctrl-C ended the step where it was
    lines = result.stderr.strip().splitlines()
    assert lines[0] == MESSAGE and len(lines) == 2 and "no checkpoint was written" in lines[1], lines
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


@pytest.mark.usefixtures("sigint_as_on_a_terminal")
def test_ctrl_c_while_predictor_outcomes_are_computed_keeps_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Predictor mode: Ctrl-C during the backbone outcomes (16 photos a chunk) keeps the chunk in hand."""
    cache_mod = importlib.import_module("drnet_edge.train.cache")

    from .conftest import write_image

    data = tmp_path / "inet"
    for c, wnid in enumerate(["n01440764", "n01443537"]):
        for i in range(10):
            write_image(data / wnid / f"{i}.jpg", size=(80, 96), seed=10 * c + i)
    chunks: list[int] = []
    original = cache_mod._outcomes

    def outcomes(model, ds, chunk, views, device):  # noqa: ANN001, ANN202
        chunks.append(len(chunk))
        if len(chunks) == 1:
            os.kill(os.getpid(), signal.SIGINT)
        return original(model, ds, chunk, views, device)

    monkeypatch.setattr(cache_mod, "_outcomes", outcomes)
    out = tmp_path / "p.pt"
    args = ["train", "--quiet", "--data", str(data), "--out", str(out), "--epochs", "1", "--resolutions", "64,48",
            "--thumb-size", "32", "--workers", "0", "--views", "1"]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 130, (result.exit_code, result.stderr, result.exception)
    assert chunks == [16], chunks  # the second chunk never started
    lines = result.stderr.strip().splitlines()
    assert lines[0] == MESSAGE and len(lines) == 2 and "keeps the backbone outcomes computed so far" in lines[1], lines
    import torch

    (saved,) = (tmp_path / "p.pt.cache").glob("outcomes-*.pt")
    assert len(torch.load(saved, weights_only=True)) == 16


def test_stop_after_batch_leaves_ignored_sigint_and_other_threads_alone() -> None:
    from drnet_edge.train import interrupt

    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # a background job's: Ctrl-C is not for it
    try:
        with interrupt.stop_after_batch():
            assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
        signal.signal(signal.SIGINT, signal.default_int_handler)
        with interrupt.stop_after_batch(enabled=False):
            assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
        seen = []
        worker = threading.Thread(target=lambda: seen.append(_installed_in_thread(interrupt)))
        worker.start()
        worker.join()
        assert seen == [False]
        with interrupt.stop_after_batch():
            assert signal.getsignal(signal.SIGINT) is not signal.default_int_handler
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGINT, previous)


def _installed_in_thread(interrupt) -> bool:  # noqa: ANN001
    with interrupt.stop_after_batch():
        return signal.getsignal(signal.SIGINT) is not signal.default_int_handler


# -- defect 11: logs in the cache folder, pruned, named only when they matter ----------------------


def test_logs_go_to_the_cache_folder_and_only_the_newest_are_kept(cache: Path) -> None:
    from drnet_edge.logs import KEEP, third_party_output

    before = _temp_logs()
    paths = []
    for k in range(KEEP + 3):
        with third_party_output(command="bench") as log:
            os.write(2, f"INFO: run {k}\n".encode())  # as the runtimes write on every load
        paths.append(log)
        os.utime(log, (k, k))  # a distinct age each (the clock may not tick between runs)
    assert all(p.parent == cache and p.name.startswith("bench-") for p in paths)
    assert sorted(cache.iterdir()) == sorted(paths[-KEEP:])
    assert _temp_logs() <= before  # nothing in /tmp


def test_an_empty_log_leaves_no_file_nor_folder(cache: Path) -> None:
    from drnet_edge.logs import third_party_output

    with third_party_output(command="eval") as log:
        pass
    assert log is not None and not log.exists() and not cache.parent.parent.exists()


@pytest.mark.parametrize(
    "written, raised, named",
    [
        ("INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\n", None, False),  # every load writes it
        ("WARNING: something the runtime wants said\n", None, True),
        ("INFO: loaded\n", RuntimeError, True),  # an unexpected failure: the log may tell why
        ("INFO: loaded\n", "DataError", False),  # a one-line error says all there is
        ("", RuntimeError, False),  # nothing logged: nothing to point at
    ],
)
def test_the_log_is_named_only_on_a_warning_or_a_failure(
    cache: Path, capsys: pytest.CaptureFixture[str], written: str, raised, named: bool
) -> None:
    from drnet_edge.cli._app import quiet_runtimes
    from drnet_edge.errors import DataError

    exc = DataError if raised == "DataError" else raised
    with pytest.raises(exc) if exc else _nothing():
        with quiet_runtimes(None, "bench"):
            os.write(2, written.encode())
            if exc:
                raise exc("failed")
    err = capsys.readouterr().err
    assert ("runtime and converter messages" in err) is named, err
    if named:
        assert str(cache) in err


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def test_has_warning_on_real_lines(tmp_path: Path) -> None:
    from drnet_edge.logs import has_warning

    quiet = [
        "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
        "I0000 00:00:1796609035.978298    5055 port.cc:153] oneDNN custom operations are on.",
        "W1207 02:03:56.682000 5055 torch/utils/_pytree.py:630] <enum 'KernelPreference'> is an Enum subclass "
        "and is now natively supported by torch.compile as an opaque value type. Calling register_constant() on "
        "Enum subclasses is deprecated and will be an error in a future release.",
        "INFO: Created TensorFlow Lite XNNPACK delegate for CPU.",
        "I 00:00:00.000123 executorch:cpuinfo_utils.cpp:62] Reading file /sys/devices/soc0/image_version",
    ]
    loud = [
        "ERROR: Didn't find op for builtin opcode 'CONV_2D' version '6'",
        "E 00:00:00.000456 executorch:method.cpp:100] Missing operator: aten::foo",
        "W0000 00:00:1700000000.1 1 interpreter.cc:12] delegate fell back to the CPU",
        "/x/y.py:3: UserWarning: the input is not contiguous",
        "RuntimeError: out of memory",
    ]
    log = tmp_path / "a.log"
    log.write_text("\n".join(quiet) + "\n")
    assert not has_warning(log)
    for line in loud:
        log.write_text("\n".join([*quiet, line]) + "\n")
        assert has_warning(log), line


def test_bench_skip_bad_on_all_bad_photos_is_one_line(
    tiny_converted, tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """TFLite writes a log line on every load: the photos are checked before any runtime loads, and before
    a progress bar starts, so the clean error is all there is (no progress line, no log pointer)."""
    import drnet_edge.bench.paths.local_runs as local

    bars: list[str] = []
    real_bar = local.progress_bar
    monkeypatch.setattr(
        local, "progress_bar", lambda total, what, **kw: bars.append(what) or real_bar(total, what, **kw)
    )
    art = tiny_converted("tflite", via="litert", int8=True)[0]
    allbad = tmp_path / "allbad" / "cat"
    allbad.mkdir(parents=True)
    for name in ("a.jpg", "b.png"):
        (allbad / name).write_bytes(b"\xff\xd8\xffjunk")
    before = _temp_logs()
    args = ["bench", "--artifacts", str(art), "--runtime", "tflite", "--data", str(allbad.parent), "--skip-bad",
            "--runs", "1", "--warmup", "0"]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 2, (result.stderr, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: no readable image"), lines
    assert bars == [] and not cache.exists() and _temp_logs() <= before
