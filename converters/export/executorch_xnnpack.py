"""ExecuTorch ``.pte`` delegated to XNNPACK (its files run with
:mod:`drnet_edge.converters.load.executorch_xnnpack`); int8 through XNNPACKQuantizer (PT2E)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..base import ExportedModel, TensorSpec

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
    import torch
    from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
    from executorch.exir import to_edge_transform_and_lower

    example = example.contiguous()  # ExecuTorch keeps the example's dim order
    out_shape = list(module(example).shape)
    if int8:
        from executorch.backends.xnnpack.quantizer.xnnpack_quantizer import (
            XNNPACKQuantizer,
            get_symmetric_quantization_config,
        )
        from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e

        from ._pt2e import prepare_with_relu6_fused

        quantizer = XNNPACKQuantizer().set_global(get_symmetric_quantization_config(is_per_channel=True))
        graph = prepare_with_relu6_fused(torch.export.export(module, (example,)).module(), quantizer)
        with torch.no_grad():
            for c in quant_views:
                graph(c)
        module = convert_pt2e(graph)
    program = torch.export.export(module, (example,))
    et = to_edge_transform_and_lower(program, partitioner=[XnnpackPartitioner()]).to_executorch()
    path.write_bytes(et.buffer)
    return ExportedModel(
        file=path.name,
        precision="int8" if int8 else "fp32",
        input=TensorSpec(list(example.shape), "float32"),
        output=TensorSpec(out_shape, "float32"),
        extra={"layout": "NCHW", "delegate": "XNNPACK", "method": "forward"},
    )


def export_shared(module: nn.Module, examples: dict[str, torch.Tensor], path: Path) -> dict[str, ExportedModel]:
    import torch
    from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
    from executorch.exir import to_edge_transform_and_lower

    programs = {name: torch.export.export(module, (x.contiguous(),)) for name, x in examples.items()}
    et = to_edge_transform_and_lower(programs, partitioner=[XnnpackPartitioner()]).to_executorch()
    path.write_bytes(et.buffer)
    return {
        name: ExportedModel(
            path.name,
            "fp32",
            TensorSpec(list(x.shape), "float32"),
            TensorSpec(list(module(x).shape), "float32"),
            {"layout": "NCHW", "delegate": "XNNPACK", "method": name},
        )  # fmt: skip
        for name, x in examples.items()
    }
