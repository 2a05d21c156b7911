"""ONNX files run with onnxruntime on its CPU execution provider."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..base import Runner


def load(path: Path, threads: int | None = None, entry: str | None = None) -> Runner:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    if threads:
        opts.intra_op_num_threads = threads
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    batch = sess.get_inputs()[0].shape[0]

    def run(x: np.ndarray) -> np.ndarray:
        if batch == 1 and len(x) != 1:
            return np.concatenate([sess.run(None, {name: x[i : i + 1].astype(np.float32)})[0] for i in range(len(x))])
        return sess.run(None, {name: x.astype(np.float32)})[0]

    return run


def describe(path: Path, threads: int | None = None, entry: str | None = None) -> str:
    return "CPUExecutionProvider"  # the only provider load asks for
