"""TFLite through litert-torch, run with ai-edge-litert (tflite-runtime's maintained successor).

int8: PT2E static quantization (per-channel symmetric weights); the exported model then has int8
input and output tensors, whose scale and zero point go into the manifest.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..runtime.int8_io import quant_params, tflite_run_one
from .base import ExportedModel, Runner, Target, TensorSpec, per_image, register_target

if TYPE_CHECKING:  # export only: PyTorch is imported inside the export methods, so loading needs none
    import torch
    from torch import nn


def _spec(detail: dict) -> TensorSpec:
    q = quant_params(detail)
    return TensorSpec(
        [int(v) for v in detail["shape"]],
        np.dtype(detail["dtype"]).name,
        q[0] if q else None,
        q[1] if q else None,
    )


@register_target
class TFLiteTarget(Target):
    name = "tflite"
    suffix = ".tflite"
    route = "litert"
    runtime_packages = ("ai-edge-litert",)
    export_packages = ("litert-torch", "torchao")  # torchao: PT2E int8
    default = True  # --via litert unless told otherwise
    extra = "tflite"
    runtime_extra = ""

    def export(
        self,
        module: nn.Module,
        example: torch.Tensor,
        path: Path,
        *,
        int8: bool,
        quant_views: Sequence[torch.Tensor] = (),
    ) -> ExportedModel:
        import litert_torch
        import torch

        if int8:
            from litert_torch.quantize import pt2e_quantizer
            from litert_torch.quantize.quant_config import QuantConfig
            from torchao.quantization.pt2e import quantize_pt2e

            from ._pt2e import prepare_with_relu6_fused

            quantizer = pt2e_quantizer.PT2EQuantizer().set_global(
                pt2e_quantizer.get_symmetric_quantization_config(is_per_channel=True, is_dynamic=False)
            )
            graph = torch.export.export(module, (example,)).module()
            graph = prepare_with_relu6_fused(graph, quantizer)
            with torch.no_grad():
                for c in quant_views:
                    graph(c)
            graph = quantize_pt2e.convert_pt2e(graph, fold_quantize=False)
            edge = litert_torch.convert(graph, (example,), quant_config=QuantConfig(pt2e_quantizer=quantizer))
        else:
            edge = litert_torch.convert(module, (example,))
        edge.export(str(path))
        return self.described(path, int8, {"layout": "NCHW"})

    @staticmethod
    def described(path: Path, int8: bool, extra: dict) -> ExportedModel:
        """The manifest entry of a written ``.tflite`` file, tensor specs read back by the interpreter."""
        from ai_edge_litert.interpreter import Interpreter

        it = Interpreter(str(path))
        return ExportedModel(
            file=path.name,
            precision="int8" if int8 else "fp32",
            input=_spec(it.get_input_details()[0]),
            output=_spec(it.get_output_details()[0]),
            extra=extra,
        )

    shares_weights = True

    def export_shared(
        self, module: nn.Module, examples: dict[str, torch.Tensor], path: Path
    ) -> dict[str, ExportedModel]:
        import litert_torch
        from ai_edge_litert.interpreter import Interpreter

        names = list(examples)
        conv = litert_torch.signature(names[0], module, (examples[names[0]],))
        for name in names[1:]:
            conv = conv.signature(name, module, (examples[name],))
        conv.convert().export(str(path))
        it = Interpreter(str(path))
        out = {}
        for name in names:
            runner = it.get_signature_runner(name)
            i, o = next(iter(runner.get_input_details().values())), next(iter(runner.get_output_details().values()))
            out[name] = ExportedModel(path.name, "fp32", _spec(i), _spec(o), {"layout": "NCHW", "signature": name})
        return out

    def load(self, path: Path, threads: int | None = None, entry: str | None = None) -> Runner:
        from ai_edge_litert.interpreter import Interpreter

        # the float <-> int8 edges live in numpy-only runtime/int8_io, which every machine runs alike
        return per_image(tflite_run_one(Interpreter(str(path), num_threads=threads), entry))

    def describe(self, path: Path, threads: int | None = None, entry: str | None = None) -> str:
        from ai_edge_litert.interpreter import Interpreter

        it = Interpreter(str(path), num_threads=threads)
        tflite_run_one(it, entry)  # allocated as load allocates: LiteRT applies its default delegate (XNNPACK)
        try:
            parts = sum(op["op_name"] == "DELEGATE" for op in it._get_ops_details())
        except Exception:  # a private API: a runtime without it says nothing either way
            return "unknown"
        return f"XNNPACK ({parts} partition{'s' if parts != 1 else ''})" if parts else "none (TFLite kernels)"
