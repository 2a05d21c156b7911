"""TFLite files (from either route, litert-torch or onnx2tf) run with ai-edge-litert, tflite-runtime's
maintained successor. The float <-> int8 edges live in numpy-only :mod:`drnet_edge.runtime.int8_io`,
which every machine runs alike. :func:`written` reads a file's tensor specs back for the exporters."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from drnet_edge.runtime.int8_io import quant_params, tflite_run_one

from ..base import ExportedModel, Runner, TensorSpec, per_image


def load(path: Path, threads: int | None = None, entry: str | None = None) -> Runner:
    from ai_edge_litert.interpreter import Interpreter

    return per_image(tflite_run_one(Interpreter(str(path), num_threads=threads), entry))


def describe(path: Path, threads: int | None = None, entry: str | None = None) -> str:
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(str(path), num_threads=threads)
    tflite_run_one(it, entry)  # allocated as load allocates: LiteRT applies its default delegate (XNNPACK)
    try:
        parts = sum(op["op_name"] == "DELEGATE" for op in it._get_ops_details())
    except Exception:  # a private API: a runtime without it says nothing either way
        return "unknown"
    return f"XNNPACK ({parts} partition{'s' if parts != 1 else ''})" if parts else "none (TFLite kernels)"


def tensor_spec(detail: dict) -> TensorSpec:
    """An interpreter's tensor detail as a manifest :class:`TensorSpec` (int8: scale and zero point)."""
    q = quant_params(detail)
    return TensorSpec(
        [int(v) for v in detail["shape"]],
        np.dtype(detail["dtype"]).name,
        q[0] if q else None,
        q[1] if q else None,
    )


def written(path: Path, int8: bool, extra: dict) -> ExportedModel:
    """The manifest entry of a written ``.tflite`` file, tensor specs read back by the interpreter."""
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(str(path))
    return ExportedModel(
        file=path.name,
        precision="int8" if int8 else "fp32",
        input=tensor_spec(it.get_input_details()[0]),
        output=tensor_spec(it.get_output_details()[0]),
        extra=extra,
    )


def written_signatures(path: Path, names: list[str], extra: dict) -> dict[str, ExportedModel]:
    """The manifest entries of a written fp32 ``.tflite`` file with one signature per name."""
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(str(path))
    out = {}
    for name in names:
        runner = it.get_signature_runner(name)
        i, o = next(iter(runner.get_input_details().values())), next(iter(runner.get_output_details().values()))
        out[name] = ExportedModel(path.name, "fp32", tensor_spec(i), tensor_spec(o), {**extra, "signature": name})
    return out
