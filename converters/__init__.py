"""Conversion targets, installed as ``drnet_edge.converters``.

Each target turns one PyTorch module (the predictor, or the backbone folded to one resolution) into
one file its runtime loads, and loads such a file back as a :class:`~drnet_edge.converters.base.Runner`.
Register a new target with ``@register_target``; nothing else needs editing.
"""

from .base import ExportedModel, Runner, Target, get_target, list_routes, list_targets, register_target

# importing the modules registers the targets
from . import executorch_xnnpack, onnx_ort, tflite_litert, tflite_onnx2tf  # noqa: E402,F401  isort: skip

__all__ = ["ExportedModel", "Runner", "Target", "get_target", "list_routes", "list_targets", "register_target"]
