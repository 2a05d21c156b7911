"""A TFLite model's float <-> int8 edges, in numpy alone (deploy side): the TFLite runner
(:mod:`drnet_edge.converters.load.tflite`) and the int8 input tables of preprocessing
(:func:`drnet_edge.data.preprocess.input_lut`) quantise and dequantise with this one code, on this machine,
on a board and in ``verify``'s aarch64 userland alike. Imports nothing but numpy: keep it that way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np


def quant_params(detail: dict) -> tuple[float, int] | None:
    """``(scale, zero_point)`` of an integer tensor (an interpreter's tensor detail), else ``None``."""
    scale, zero = detail.get("quantization", (0.0, 0))
    if np.dtype(detail["dtype"]).kind in "iu" and scale:
        return float(scale), int(zero)
    return None


def quantize(x: np.ndarray, params: tuple[float, int], dtype: Any) -> np.ndarray:
    """float -> integer ``dtype`` as TFLite's own QUANTIZE op does: ``round(x / scale) + zero_point``
    with halves rounded away from zero (``std::round``) before the zero point is added, in float32,
    then saturate. (Rounding ``x / scale + zero_point`` half to even instead merges 41 pairs of pixel
    values into one level for an input scale of 1/127.5 with zero point -1, where ``x / scale`` falls
    on halves: that cost the onnx2tf int8 model 0.7 points at 192 px and for the pipeline.)"""
    scale, zero = params
    info = np.iinfo(dtype)
    v = np.asarray(x, dtype=np.float32) / np.float32(scale)
    r = np.sign(v) * np.floor(np.abs(v) + np.float32(0.5))
    return np.clip(r + zero, info.min, info.max).astype(dtype)


def dequantize(y: np.ndarray, params: tuple[float, int]) -> np.ndarray:
    """integer -> float32."""
    scale, zero = params
    return ((y.astype(np.float32) - zero) * scale).astype(np.float32)


def tflite_run_one(interpreter: Any, entry: str | None = None) -> Callable[[np.ndarray], np.ndarray]:
    """A batch-1 runner (float32 NCHW in, float32 out) over an ai-edge-litert ``Interpreter``: through
    the signature ``entry`` when given (fp32 multi-entry files), else the first input and output,
    quantised and dequantised when they are integer tensors. An input already in the model's integer
    dtype (``drnet_edge.data.preprocess.to_model_input``: pixels straight to int8) is set as it is."""
    if entry is not None:
        runner = interpreter.get_signature_runner(entry)
        in_name = next(iter(runner.get_input_details()))
        return lambda x: next(iter(runner(**{in_name: x}).values())).astype(np.float32)
    interpreter.allocate_tensors()
    inp, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    q_in, q_out = quant_params(inp), quant_params(out)

    def run_one(x: np.ndarray) -> np.ndarray:
        if q_in is not None and x.dtype != inp["dtype"]:
            x = quantize(x, q_in, inp["dtype"])
        interpreter.set_tensor(inp["index"], x)
        interpreter.invoke()
        y = interpreter.get_tensor(out["index"])
        return dequantize(y, q_out) if q_out is not None else y.astype(np.float32)

    return run_one
