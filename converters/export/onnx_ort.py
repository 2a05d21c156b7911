"""ONNX (opset 17, simplified by onnxsim) for onnxruntime (its files run with
:mod:`drnet_edge.converters.load.onnx_ort`); int8 by onnxruntime static quantization (QDQ: per-channel int8
weights, asymmetric uint8 activations, which suit the non-negative ReLU6 outputs of mobile CNNs)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..base import ExportedModel, TensorSpec

if TYPE_CHECKING:  # imported inside the functions: the onnx2tf child imports this module and needs no PyTorch
    import torch
    from torch import nn

OPSET = 17


def export_onnx(module: nn.Module, example: torch.Tensor, path: Path) -> Path:
    """``module`` at ``example``'s fixed shape as ONNX (opset 17), input ``input``, output ``output``,
    simplified with onnxsim: TF-style "same" padding exports as shape arithmetic (Shape, Ceil, Sub,
    Clip, Pad) that onnxsim folds into constant pads. Left in, that arithmetic gets quantized by
    onnxruntime's int8 quantizer (wrong pads: -10 points at 128 px) and trips onnx2tf."""
    import onnx
    import onnxsim
    import torch

    torch.onnx.export(
        module, (example,), str(path), opset_version=OPSET, input_names=["input"], output_names=["output"], dynamo=False
    )
    simple, ok = onnxsim.simplify(onnx.load(str(path)))
    if not ok:
        raise RuntimeError("onnxsim could not verify the simplified ONNX graph")
    onnx.save(simple, str(path))
    return path


def export(
    module: nn.Module,
    example: torch.Tensor,
    path: Path,
    *,
    int8: bool,
    quant_views: Sequence[torch.Tensor] = (),
) -> ExportedModel:
    fp32 = path if not int8 else path.with_suffix(".fp32.onnx")
    export_onnx(module, example, fp32)
    out_shape = list(module(example).shape)
    if int8:
        from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
        from onnxruntime.quantization.calibrate import CalibrationDataReader

        class Reader(CalibrationDataReader):
            def __init__(self) -> None:
                self.it = iter([{"input": c.numpy()} for c in quant_views])

            def get_next(self) -> dict | None:
                return next(self.it, None)

        quantize_static(
            str(fp32), str(path), Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
            activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, calibrate_method=CalibrationMethod.MinMax,
        )  # fmt: skip
        fp32.unlink()
    return ExportedModel(
        file=path.name,
        precision="int8" if int8 else "fp32",
        input=TensorSpec(list(example.shape), "float32"),
        output=TensorSpec(out_shape, "float32"),
        extra={"opset": OPSET, "layout": "NCHW"},
    )
