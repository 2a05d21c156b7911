"""Names a package imports on first use (``import drnet_edge`` or ``drnet_edge.train`` stays light): the one
``__getattr__`` both packages install."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def lazy_getattr(package: str, names: dict[str, str], namespace: dict[str, Any]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package``: ``names`` maps a public name to the submodule (relative to
    ``package``) that defines it; the value is imported on first use and kept in ``namespace``."""

    def __getattr__(name: str) -> Any:
        if name not in names:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f".{names[name]}", package), name)
        namespace[name] = value
        return value

    return __getattr__
