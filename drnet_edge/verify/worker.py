"""Runs converted models on preprocessed inputs and writes their outputs: the part of ``drnet-edge verify``
that runs inside the aarch64 userland (or natively on the host, to test the protocol).

It is this project's own deploy side, installed there from a wheel of the tree
(:mod:`drnet_edge.wheelhouse`): each file is loaded by its target's ``load``
(:mod:`drnet_edge.converters`), as ``eval --runtime``, ``predict`` and the bench load it. It times
nothing: under an emulator a time means nothing.

Protocol (every path relative to the request's folder)::

    request.json  {"threads": 1, "models": [{"id": "...", "kind": "tflite"|"executorch",
                   "file": "models/x.tflite", "entry": null, "input": "inputs/224.npy"}, ...]}
    outputs.npz   one float32 (N, classes) array per model that ran, keyed m0, m1, ... (request order)
    result.json   {"cpu": {...}, "versions": {...}, "models": {id: {"ok": true, "key": "m0", "delegate": "XNNPACK"} or
                   {"ok": false, "error": "..."}}}

Usage: ``python -m drnet_edge.verify.worker REQUEST_DIR``.
"""

from __future__ import annotations

import ctypes
import json
import platform
import sys
import traceback
from pathlib import Path

import numpy as np

from drnet_edge.converters import get_target, list_targets
from drnet_edge.converters.base import installed_version

AT_HWCAP, AT_HWCAP2 = 16, 26
# aarch64 HWCAP bits (linux/arch/arm64/include/uapi/asm/hwcap.h) that decide XNNPACK's int8 kernels
HWCAP_BITS = {
    "asimd": (AT_HWCAP, 1),
    "asimddp": (AT_HWCAP, 20),
    "sve": (AT_HWCAP, 22),
    "i8mm": (AT_HWCAP2, 13),
    "sme": (AT_HWCAP2, 23),
}
VERSIONS = ("drnet-edge", "numpy", "ai-edge-litert", "executorch", "torch")


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


def run_model(folder: Path, spec: dict, threads: int) -> tuple[np.ndarray, str]:
    """Every image of the model's input through the target's own runner (batch-1 files run image by
    image there); the outputs and what ran them (the delegate and its partitions)."""
    target = get_target(spec["kind"])
    path, entry = folder / spec["file"], spec.get("entry")
    run = target.load(path, threads, entry=entry)
    y = run(np.ascontiguousarray(np.load(folder / spec["input"]), dtype=np.float32))
    return np.asarray(y, dtype=np.float32), target.describe(path, threads, entry=entry)


def main(folder: Path) -> int:
    request = json.loads((folder / "request.json").read_text())
    threads = int(request.get("threads", 1))
    outputs: dict[str, np.ndarray] = {}
    models: dict[str, dict] = {}
    for i, spec in enumerate(request["models"]):
        if spec["kind"] not in list_targets():
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
        "versions": {p: installed_version(p) for p in VERSIONS},
        "models": models,
    }
    (folder / "result.json").write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
