"""PT2E quantization helper shared by the exporters (litert-torch's and ExecuTorch's int8): imports
PyTorch, so only export code paths import this module."""

from __future__ import annotations

from typing import Any

import torch

_RELU6 = (torch.ops.aten.hardtanh.default, torch.ops.aten.hardtanh_.default)


def prepare_with_relu6_fused(graph: torch.fx.GraphModule, quantizer: Any) -> torch.fx.GraphModule:
    """``prepare_pt2e`` that quantizes a convolution followed by ReLU6 as one fused op.

    The PT2E quantizers (XNNPACK's and litert-torch's) fuse conv + ReLU but not conv + ReLU6
    (``hardtanh(0, 6)``), so the convolution's raw output gets its own int8 range, far wider than the
    0..6 that follows: EfficientNet-Lite then loses ~5 points in int8. Presenting each ReLU6 as a
    ReLU while the quantizer annotates, then restoring it, puts the observer after the clamp (as the
    TFLite converter does), so the range is the clipped one.
    """
    from torchao.quantization.pt2e.quantize_pt2e import prepare_pt2e

    swapped = {}
    for n in graph.graph.nodes:
        if n.op == "call_function" and n.target in _RELU6 and tuple(float(a) for a in n.args[1:3]) == (0.0, 6.0):
            swapped[n.name] = (n.target, n.args, n.kwargs)
            n.target, n.args, n.kwargs = torch.ops.aten.relu.default, (n.args[0],), {}
    graph.recompile()
    prepared = prepare_pt2e(graph, quantizer)
    restored = 0
    for n in prepared.graph.nodes:
        if n.name in swapped and n.target == torch.ops.aten.relu.default:
            target, args, kwargs = swapped[n.name]
            n.target, n.args, n.kwargs = target, (n.args[0], *args[1:]), kwargs
            restored += 1
    if restored != len(swapped):
        raise RuntimeError(f"restored {restored} of {len(swapped)} ReLU6 ops after quantizer annotation")
    prepared.recompile()
    return prepared
