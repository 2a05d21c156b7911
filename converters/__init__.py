"""Conversion targets, installed as ``drnet_edge.converters``: one registry, keyed by target name (and
route, for TFLite), whose two halves live apart.

- :mod:`.base`: the :class:`~drnet_edge.converters.base.Target` interface and the registry
  (``get_target``, ``list_targets``, ``list_routes``), torch-free.
- :mod:`.targets`: the registered targets, each naming its loader and its exporter.
- ``load/``: the loaders, deploy side (numpy and the runtime package): run a file as a
  :class:`~drnet_edge.converters.base.Runner` and say what runs it.
- ``export/``: the exporters, build side (PyTorch, litert-torch, onnx2tf, executorch.exir,
  onnxruntime's quantizer): turn one PyTorch module into one file. ``Target.export`` imports its
  exporter on first use, so importing this package, or loading a file, never imports them.
"""

from . import targets  # noqa: F401  (registers every target)
from .base import ExportedModel, Runner, Target, get_target, list_routes, list_targets, register_target

__all__ = ["ExportedModel", "Runner", "Target", "get_target", "list_routes", "list_targets", "register_target"]
