"""ExecuTorch ``.pte`` delegated to XNNPACK; int8 through XNNPACKQuantizer (PT2E).

PyTorch is imported inside the methods: exporting needs it, and so does loading, since ExecuTorch's
Python runtime (``executorch.runtime``) imports torch and takes torch tensors.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .base import ExportedModel, Runner, Target, TensorSpec, per_image, register_target

if TYPE_CHECKING:
    import torch
    from torch import nn


@register_target
class ExecuTorchTarget(Target):
    name = "executorch"
    suffix = ".pte"
    runtime_packages = ("executorch",)
    export_packages = ("executorch", "torchao")  # torchao: PT2E int8
    extra = "executorch"
    runtime_extra = "executorch"

    def export(
        self,
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

    shares_weights = True  # XNNPACK's named data store keeps one copy of weights shared by methods

    def export_shared(
        self, module: nn.Module, examples: dict[str, torch.Tensor], path: Path
    ) -> dict[str, ExportedModel]:
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

    def load(self, path: Path, threads: int | None = None, entry: str | None = None) -> Runner:
        import torch
        from executorch.runtime import Runtime

        if threads:  # XNNPACK's shared thread pool (process-wide)
            from executorch.extension.pybindings import portable_lib

            if portable_lib._threadpool_get_thread_count() != threads:
                portable_lib._unsafe_reset_threadpool(threads)
        method = Runtime.get().load_program(str(path)).load_method(entry or "forward")
        # outputs alias the runtime's buffers, which the next execute() overwrites: copy them
        return per_image(lambda x: method.execute([torch.from_numpy(x)])[0].numpy().astype(np.float32, copy=True))

    def describe(self, path: Path, threads: int | None = None, entry: str | None = None) -> str:
        return "XNNPACK (in the .pte)"  # the backend is fixed when the .pte is written
