"""Runs converted models on preprocessed inputs and writes their outputs: the part of ``drnet-edge verify``
that runs inside the aarch64 userland (or natively on the host, to test the protocol).

Standalone on purpose: it imports the standard library, numpy, ai-edge-litert, ExecuTorch's runtime
(when installed and asked for) and ``_int8_io`` (copied next to it), never ``drnet_edge``. It times
nothing: under an emulator a time means nothing.

Protocol (every path relative to the request's folder)::

    request.json  {"threads": 1, "models": [{"id": "...", "kind": "tflite"|"executorch",
                   "file": "models/x.tflite", "entry": null, "input": "inputs/224.npy"}, ...]}
    outputs.npz   one float32 (N, classes) array per model that ran, keyed m0, m1, ... (request order)
    result.json   {"cpu": {...}, "versions": {...}, "models": {id: {"ok": true, "key": "m0", "delegate": "XNNPACK"} or
                   {"ok": false, "error": "..."}}}

Usage: ``python worker.py REQUEST_DIR``.
"""

from __future__ import annotations

import ctypes
import json
import platform
import sys
import traceback
from importlib import metadata
from pathlib import Path

import numpy as np

AT_HWCAP, AT_HWCAP2 = 16, 26
# aarch64 HWCAP bits (linux/arch/arm64/include/uapi/asm/hwcap.h) that decide XNNPACK's int8 kernels
HWCAP_BITS = {
    "asimd": (AT_HWCAP, 1),
    "asimddp": (AT_HWCAP, 20),
    "sve": (AT_HWCAP, 22),
    "i8mm": (AT_HWCAP2, 13),
    "sme": (AT_HWCAP2, 23),
}


def cpu_features() -> dict:
    """The machine and, on aarch64, the HWCAP features this process sees (under qemu: the emulated CPU's)."""
    out: dict = {"machine": platform.machine()}
    if platform.machine() not in ("aarch64", "arm64"):
        return out
    getauxval = ctypes.CDLL(None).getauxval
    getauxval.restype, getauxval.argtypes = ctypes.c_ulong, [ctypes.c_ulong]
    words = {AT_HWCAP: getauxval(AT_HWCAP), AT_HWCAP2: getauxval(AT_HWCAP2)}
    out["hwcap"], out["hwcap2"] = hex(words[AT_HWCAP]), hex(words[AT_HWCAP2])
    out["features"] = {name: bool(words[word] >> bit & 1) for name, (word, bit) in HWCAP_BITS.items()}
    return out


def _version(pkg: str) -> str | None:
    try:
        return metadata.version(pkg)
    except metadata.PackageNotFoundError:
        return None


def _tflite_runner(path: Path, entry: str | None, threads: int):
    from _int8_io import tflite_run_one  # copied next to this file
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(str(path), num_threads=threads)
    run_one = tflite_run_one(it, entry)  # applies LiteRT's default delegate (XNNPACK) when it can
    try:
        parts = sum(op["op_name"] == "DELEGATE" for op in it._get_ops_details())
    except Exception:  # a private API: a runtime without it says nothing either way
        return run_one, "unknown"
    return run_one, f"XNNPACK ({parts} partition{'s' if parts != 1 else ''})" if parts else "none (TFLite kernels)"


def _executorch_runner(path: Path, entry: str | None, threads: int):
    import torch
    from executorch.extension.pybindings import portable_lib
    from executorch.runtime import Runtime

    if portable_lib._threadpool_get_thread_count() != threads:
        portable_lib._unsafe_reset_threadpool(threads)
    method = Runtime.get().load_program(str(path)).load_method(entry or "forward")
    run_one = lambda x: method.execute([torch.from_numpy(x)])[0].numpy().astype(np.float32, copy=True)  # noqa: E731
    return run_one, "XNNPACK (in the .pte)"


RUNNERS = {"tflite": _tflite_runner, "executorch": _executorch_runner}


def run_model(folder: Path, spec: dict, threads: int) -> tuple[np.ndarray, str]:
    """Every image of the model's input through it, one at a time (the files are pinned to batch 1);
    the outputs and the delegate that ran them."""
    run_one, delegate = RUNNERS[spec["kind"]](folder / spec["file"], spec.get("entry"), threads)
    x = np.load(folder / spec["input"])
    y = np.concatenate([run_one(np.ascontiguousarray(x[i : i + 1], dtype=np.float32)) for i in range(len(x))])
    return y, delegate


def main(folder: Path) -> int:
    request = json.loads((folder / "request.json").read_text())
    threads = int(request.get("threads", 1))
    outputs: dict[str, np.ndarray] = {}
    models: dict[str, dict] = {}
    for i, spec in enumerate(request["models"]):
        if spec["kind"] not in RUNNERS:
            models[spec["id"]] = {"ok": False, "error": f"unknown model kind {spec['kind']!r}"}
            continue
        try:
            outputs[f"m{i}"], delegate = run_model(folder, spec, threads)
            models[spec["id"]] = {"ok": True, "key": f"m{i}", "delegate": delegate}
        except Exception as exc:  # one model failing must not hide the others' results
            last = traceback.format_exception_only(type(exc), exc)[-1].strip()
            models[spec["id"]] = {"ok": False, "error": last[:500]}
        print(f"{spec['id']}: {'ok' if models[spec['id']]['ok'] else models[spec['id']]['error']}", flush=True)
    np.savez(folder / "outputs.npz", **outputs)
    result = {
        "cpu": cpu_features(),
        "python": platform.python_version(),
        "versions": {p: _version(p) for p in ("numpy", "ai-edge-litert", "executorch", "torch")},
        "models": models,
    }
    (folder / "result.json").write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
