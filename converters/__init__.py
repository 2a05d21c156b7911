"""Conversion targets, installed as ``drnet_edge.converters``.

Each target turns one PyTorch module (the predictor, or the backbone folded to one resolution) into
one file its runtime loads, and loads such a file back as a :class:`~drnet_edge.converters.base.Runner`.
Adding a target is one file: a module in this package whose :class:`~drnet_edge.converters.base.Target`
subclass carries ``@register_target``. Every module here except ``base`` and private (``_``) ones is
imported on first import of the package, which registers its targets; nothing else needs editing.
"""

import importlib
import pkgutil

from .base import ExportedModel, Runner, Target, get_target, list_routes, list_targets, register_target

_NOT_TARGETS = {"base"}


def _import_target_modules() -> list[str]:
    """Import (and so register) every target module of this package, in name order."""
    names = sorted(
        m.name
        for m in pkgutil.iter_modules(__path__)
        if not m.ispkg and m.name not in _NOT_TARGETS and not m.name.startswith("_")
    )
    for name in names:
        importlib.import_module(f"{__name__}.{name}")
    return names


TARGET_MODULES = _import_target_modules()

__all__ = ["ExportedModel", "Runner", "Target", "get_target", "list_routes", "list_targets", "register_target"]
