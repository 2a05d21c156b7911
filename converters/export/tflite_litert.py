"""TFLite through litert-torch (its files run with :mod:`drnet_edge.converters.load.tflite`).

int8: PT2E static quantization (per-channel symmetric weights); the exported model then has int8
input and output tensors, whose scale and zero point go into the manifest.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..base import ExportedModel
from ..load.tflite import written, written_signatures

if TYPE_CHECKING:
    import torch
    from torch import nn


def export(
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
    return written(path, int8, {"layout": "NCHW"})


def export_shared(module: nn.Module, examples: dict[str, torch.Tensor], path: Path) -> dict[str, ExportedModel]:
    """One file, one LiteRT signature per example, over one copy of the weights."""
    import litert_torch

    names = list(examples)
    conv = litert_torch.signature(names[0], module, (examples[names[0]],))
    for name in names[1:]:
        conv = conv.signature(name, module, (examples[name],))
    conv.convert().export(str(path))
    return written_signatures(path, names, {"layout": "NCHW"})
