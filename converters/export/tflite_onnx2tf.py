"""TFLite through ONNX and onnx2tf (the design card's route: ``--via onnx2tf``); its files run as the
litert route's do (:mod:`drnet_edge.converters.load.tflite`).

torch.onnx.export (opset 17) -> onnxsim (folds the shape arithmetic of TF-style "same" padding, which
onnx2tf cannot convert unsimplified) -> onnx2tf, keeping the NCHW input so the artifacts take the same
tensors as every other target. int8: TensorFlow Lite's post-training full-integer quantization
(per-channel weights, int8 activations) with ranges from the given, already normalised, tensors; the
model's input is int8 (``*_full_integer_quant.tflite``), as on the litert route, so the runtimes fill it
straight from the pixels (``preprocess.to_model_input``); its output stays float32 (the logits, and the
max softmax a cascade thresholds, at full precision).

onnx2tf downloads a quantisation sample from the internet when it finds none; here it runs in a
temporary directory that holds a placeholder sample, with its HTTP client disabled, so it never
reaches the network. It runs in a child process, which Ctrl-C stops within seconds (onnx2tf's bare
``except:`` clauses would swallow the interrupt in this one, and TensorFlow's C++ would hold it off).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..base import ExportedModel
from ..load.tflite import written
from .onnx_ort import OPSET, export_onnx

if TYPE_CHECKING:  # imported inside export: the onnx2tf child imports this module and needs no PyTorch
    import torch
    from torch import nn

SAMPLE = "calibration_image_sample_data_20x128x128x3_float32.npy"  # what onnx2tf would download


class NetworkBlocked(RuntimeError):
    pass


@contextlib.contextmanager
def _offline_in(folder: Path) -> Iterator[None]:
    """Run inside ``folder`` (with onnx2tf's placeholder sample there) and with HTTP disabled."""
    import requests

    def refuse(*args: object, **kwargs: object) -> None:
        raise NetworkBlocked(
            f"onnx2tf tried to download {args[0] if args else 'something'}; drnet-edge keeps it offline"
        )

    np.save(folder / SAMPLE, np.zeros((20, 128, 128, 3), dtype=np.float32))
    old_cwd, old_get = os.getcwd(), requests.get
    os.chdir(folder)
    requests.get = refuse  # type: ignore[assignment]
    try:
        yield
    finally:
        requests.get = old_get  # type: ignore[assignment]
        os.chdir(old_cwd)


def export(
    module: nn.Module,
    example: torch.Tensor,
    path: Path,
    *,
    int8: bool,
    quant_views: Sequence[torch.Tensor] = (),
) -> ExportedModel:
    with tempfile.TemporaryDirectory(prefix="onnx2tf-") as tmp_name:
        tmp = Path(tmp_name)
        export_onnx(module, example, tmp / "model_sim.onnx")  # simplified: onnx2tf needs the folded pads
        if int8:
            np.save(tmp / "quant_views.npy", np.concatenate([c.numpy() for c in quant_views]).astype(np.float32))
        _run_onnx2tf(tmp, int8)
        produced = tmp / "tf" / ("model_sim_full_integer_quant.tflite" if int8 else "model_sim_float32.tflite")
        if not produced.is_file():
            raise RuntimeError(f"onnx2tf wrote no {produced.name}")
        shutil.copyfile(produced, path)
    return written(path, int8, {"layout": "NCHW", "route": "onnx -> onnxsim -> onnx2tf", "opset": OPSET})


def _run_onnx2tf(workdir: Path, int8: bool) -> None:
    """onnx2tf in a child process (see :func:`run_child`: Ctrl-C stops it within seconds)."""
    log = workdir / "onnx2tf.log"
    code = run_child(onnx2tf_command(workdir, int8), cwd=workdir, log=log)
    if code != 0:  # onnx2tf exits on what it cannot convert
        text = log.read_text(encoding="utf-8", errors="replace")
        lines = [ln.strip() for ln in text.splitlines() if "error" in ln.lower()]
        raise RuntimeError(f"onnx2tf cannot convert this graph (exit {code}): {' | '.join(lines[-3:]) or text[-500:]}")


def onnx2tf_command(workdir: Path, int8: bool) -> list[str]:
    """The child process converting ``workdir/model_sim.onnx`` into ``workdir/tf`` (int8: ranges from
    ``workdir/quant_views.npy``)."""
    code = "from drnet_edge.converters.export.tflite_onnx2tf import child_main; child_main()"
    return [sys.executable, "-c", code, str(workdir), "int8" if int8 else "fp32", str(os.getpid())]


def child_main(argv: Sequence[str] | None = None) -> None:
    """The onnx2tf child: ``WORKDIR int8|fp32 PARENT_PID``; onnx2tf's own exit code when it cannot convert."""
    workdir, precision, parent = sys.argv[1:4] if argv is None else argv
    _die_with_parent(int(parent))
    import onnx2tf

    tmp, kwargs = Path(workdir), {}
    if precision == "int8":
        zero, one = np.zeros((1, 3, 1, 1), np.float32), np.ones((1, 3, 1, 1), np.float32)
        kwargs = {
            "output_integer_quantized_tflite": True,
            "quant_type": "per-channel",
            "input_quant_dtype": "int8",
            "output_quant_dtype": "float32",
            "custom_input_op_name_np_data_path": [["input", str(tmp / "quant_views.npy"), zero, one]],
        }
    with _offline_in(tmp):
        onnx2tf.convert(
            input_onnx_file_path=str(tmp / "model_sim.onnx"),
            output_folder_path=str(tmp / "tf"),
            keep_ncw_or_nchw_or_ncdhw_input_names=["input"],
            copy_onnx_input_output_names_to_tflite=True,
            not_use_onnxsim=True,
            non_verbose=True,
            **kwargs,
        )


def _die_with_parent(parent: int) -> None:
    """Linux: the kernel kills this child when the converting process dies, however it dies (and it
    stops at once if that happened already)."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
    if os.getppid() != parent:
        sys.exit("the converting process is gone")


def run_child(cmd: Sequence[str], *, cwd: Path, log: Path, grace_s: float = 2.0) -> int:
    """Run a converter in a child process (its own process group, output to ``log``); returns its exit code.

    Any interruption while it runs (Ctrl-C's ``KeyboardInterrupt`` included) stops the whole group,
    SIGTERM then SIGKILL after ``grace_s``, before the exception goes on: a converter that ignores
    SIGINT (TensorFlow's) or swallows ``KeyboardInterrupt`` (onnx2tf's bare ``except:``) never outlives
    the conversion. The group is its own, so the terminal's Ctrl-C reaches only this process, which
    stops the child itself."""
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            list(cmd), cwd=cwd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        return proc.wait()
    except BaseException:
        stop_child(proc, grace_s)
        raise


def stop_child(proc: subprocess.Popen, grace_s: float = 2.0) -> None:
    """SIGTERM to ``proc``'s process group, SIGKILL after ``grace_s`` (at once on a second Ctrl-C); the
    child is reaped."""
    try:
        _signal_group(proc, signal.SIGTERM)
        try:
            proc.wait(grace_s)
        except subprocess.TimeoutExpired:
            pass
    finally:
        _signal_group(proc, signal.SIGKILL)  # the leader if it held on, and any process it started
        proc.wait()


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        if hasattr(os, "killpg"):
            os.killpg(proc.pid, sig)
        elif proc.poll() is None:
            proc.kill()
    except (ProcessLookupError, PermissionError):  # the group is gone (or its id was reused)
        pass
