"""The target interface and registry, torch-free. A :class:`Target` declares a format and route and
names its two halves: its ``loader``, a module of :mod:`.load` (the deploy side: numpy and the runtime
package), and its ``exporter``, a module of :mod:`.export` (the build side: PyTorch and the export
tools), imported by name on the first export only. The registered targets are in :mod:`.targets`."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from drnet_edge.errors import ConfigError

if TYPE_CHECKING:
    import torch
    from torch import nn


@dataclass
class TensorSpec:
    """Shape, dtype and (for int8 tensors) quantization parameters of a model input or output."""

    shape: list[int]
    dtype: str
    scale: float | None = None
    zero_point: int | None = None


@dataclass
class ExportedModel:
    """What a target wrote for one module (becomes one entry of ``manifest.json``)."""

    file: str
    precision: str  # "fp32" or "int8"
    input: TensorSpec
    output: TensorSpec
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


Runner = Callable[[np.ndarray], np.ndarray]  # float32 NCHW batch -> float32 logits


class Target:
    """A deployment format: ``export`` writes a file (through the ``exporter``), ``load`` runs it
    (through the ``loader``). Several routes may write the same format (``route``: TFLite through
    litert-torch, or through ONNX and onnx2tf), and then share its loader."""

    name: str
    suffix: str
    route: str = "default"
    # load(path, threads, entry) -> Runner and describe(path, threads, entry) -> str; torch-free
    loader: ClassVar[ModuleType]
    # the name of a module of converters/export/: export(...) and, where shares_weights, export_shared(...)
    exporter: ClassVar[str]
    # Distribution names (as pip knows them). ``runtime_packages``: what ``load`` needs to run a file;
    # ``export_packages``: what ``export``/``export_shared`` need on top (they also read their own output
    # back, so exporting needs the runtime too).
    runtime_packages: tuple[str, ...] = ()
    export_packages: tuple[str, ...] = ()
    extra: str = "all"  # the pip extra that installs both
    runtime_extra: str = "all"  # the pip extra that installs the runtime alone ("": the base install)
    default: bool = False  # the default route of its format (see register_target)

    def export(
        self,
        module: nn.Module,
        example: torch.Tensor,
        path: Path,
        *,
        int8: bool,
        quant_views: Sequence[torch.Tensor] = (),
    ) -> ExportedModel:
        """Convert ``module`` (eval mode, batch-1 ``example``) into ``path``; int8 quantisation uses ``quant_views`` (the ``--quant-data`` views)."""
        return self._exporter().export(module, example, path, int8=int8, quant_views=quant_views)

    def load(self, path: Path, threads: int | None = None, entry: str | None = None) -> Runner:
        """A callable running the file (its entry point ``entry`` when it holds several) on float32
        NCHW batches, one image at a time where the model is pinned to batch 1."""
        return self.loader.load(path, threads, entry)

    def describe(self, path: Path, threads: int | None = None, entry: str | None = None) -> str:
        """What runs the file's operators once loaded as :meth:`load` loads it (a delegate and its
        partitions), as far as the runtime tells; ``"unknown"`` where it does not."""
        return self.loader.describe(path, threads, entry)

    # Formats that hold several entry points over one copy of the weights (LiteRT signatures,
    # ExecuTorch methods) set this and implement export_shared: the backbones of every resolution
    # then cost the weights once when they share every weight (no resolution-aware BN).
    shares_weights: bool = False

    def export_shared(
        self, module: nn.Module, examples: dict[str, torch.Tensor], path: Path
    ) -> dict[str, ExportedModel]:
        """One file with an entry point per example (fp32); returns a spec per entry point."""
        if not self.shares_weights:
            raise NotImplementedError(f"target {self.name} cannot share weights between entry points")
        return self._exporter().export_shared(module, examples, path)

    def _exporter(self) -> ModuleType:
        """The exporter module, imported on first use: PyTorch and the export tools come with it."""
        return importlib.import_module(f"{__package__}.export.{self.exporter}")

    @property
    def packages(self) -> tuple[str, ...]:
        """Every package the target uses: runtime first, then the export-only ones."""
        return tuple(dict.fromkeys(self.runtime_packages + self.export_packages))

    def versions(self) -> dict[str, str]:
        """Installed version of every runtime and export package ("not installed" when absent)."""
        return {pkg: installed_version(pkg) or "not installed" for pkg in self.packages}

    def check_runtime(self) -> None:
        """Raise :class:`ConfigError` unless what ``load`` needs is installed."""
        self._check(self.runtime_packages, "run its files", self.runtime_extra)

    def check_export(self) -> None:
        """Raise :class:`ConfigError` unless what ``export`` needs (runtime included) is installed."""
        self._check(self.packages, "convert to it", self.extra)

    def _check(self, packages: tuple[str, ...], what: str, extra: str) -> None:
        missing = [p for p in packages if installed_version(p) is None]
        if missing:
            route = f" (route {self.route})" if self.route != "default" else ""
            spelling = f"'drnet-edge[{extra}]'" if extra else "drnet-edge (its base install has it)"
            raise ConfigError(
                f"target {self.name!r}{route} needs {', '.join(missing)} to {what}: pip install {spelling}"
            )


def installed_version(pkg: str) -> str | None:
    """The installed distribution's version, or ``None`` when it is not installed."""
    try:
        return metadata.version(pkg)
    except metadata.PackageNotFoundError:
        return None


_TARGETS: dict[str, dict[str, Target]] = {}  # name -> route -> target; the first route is the default


def register_target(cls: type[Target]) -> type[Target]:
    """Class decorator: register one instance of a :class:`Target` under its ``name`` and ``route``.
    A target with ``default = True`` becomes its format's default route whatever the import order;
    otherwise the first route registered is."""
    routes = _TARGETS.setdefault(cls.name, {})
    routes[cls.route] = cls()
    if cls.default:
        _TARGETS[cls.name] = {cls.route: routes.pop(cls.route), **routes}
    return cls


def list_targets() -> list[str]:
    return sorted(_TARGETS)


def list_routes(name: str) -> list[str]:
    return list(_TARGETS.get(name, {}))


def get_target(name: str, via: str | None = None) -> Target:
    """The target ``name`` through route ``via`` (default: its first registered route)."""
    if name not in _TARGETS:
        raise ConfigError(f"unknown target {name!r}; choose from {', '.join(list_targets())} or all")
    routes = _TARGETS[name]
    if via is None:
        return next(iter(routes.values()))
    if via not in routes:
        raise ConfigError(f"target {name!r} has no route {via!r}; choose from {', '.join(routes)}")
    return routes[via]


def per_image(run_one: Callable[[np.ndarray], np.ndarray]) -> Runner:
    """Lift a batch-1 runner to batches (float input as float32; an integer input, already quantised for
    the model, passes as it is)."""

    def run(x: np.ndarray) -> np.ndarray:
        dtype = np.float32 if x.dtype.kind == "f" else x.dtype
        return np.concatenate([run_one(np.ascontiguousarray(x[i : i + 1], dtype=dtype)) for i in range(len(x))])

    return run
