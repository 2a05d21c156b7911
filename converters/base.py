"""The target interface and registry."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from drnet_edge.errors import ConfigError


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


class Target(ABC):
    """A deployment format: ``export`` writes a file, ``load`` runs it."""

    name: str
    suffix: str
    packages: tuple[str, ...] = ()

    @abstractmethod
    def export(
        self, module: nn.Module, example: torch.Tensor, path: Path, *, int8: bool, calib: Sequence[torch.Tensor] = ()
    ) -> ExportedModel:
        """Convert ``module`` (eval mode, batch-1 ``example``) into ``path``; int8 uses ``calib``."""

    @abstractmethod
    def load(self, path: Path, threads: int | None = None, entry: str | None = None) -> Runner:
        """A callable running the file (its entry point ``entry`` when it holds several) on float32
        NCHW batches, one image at a time where the model is pinned to batch 1."""

    # Formats that hold several entry points over one copy of the weights (LiteRT signatures,
    # ExecuTorch methods) set this and implement export_shared: the backbones of every resolution
    # then cost the weights once when they share every weight (no resolution-aware BN).
    shares_weights: bool = False

    def export_shared(
        self, module: nn.Module, examples: dict[str, torch.Tensor], path: Path
    ) -> dict[str, ExportedModel]:
        """One file with an entry point per example (fp32); returns a spec per entry point."""
        raise NotImplementedError(f"target {self.name} cannot share weights between entry points")

    def versions(self) -> dict[str, str]:
        out = {}
        for pkg in self.packages:
            try:
                out[pkg] = metadata.version(pkg)
            except metadata.PackageNotFoundError:
                out[pkg] = "not installed"
        return out

    def check_installed(self) -> None:
        missing = [p for p, v in self.versions().items() if v == "not installed"]
        if missing:
            raise ConfigError(
                f"target {self.name!r} needs {', '.join(missing)}: pip install 'drnet-edge[{self.extra}]'"
            )

    extra: str = "all"


_TARGETS: dict[str, Target] = {}


def register_target(cls: type[Target]) -> type[Target]:
    """Class decorator: register one instance of a :class:`Target` under its ``name``."""
    _TARGETS[cls.name] = cls()
    return cls


def list_targets() -> list[str]:
    return sorted(_TARGETS)


def get_target(name: str) -> Target:
    if name not in _TARGETS:
        raise ConfigError(f"unknown target {name!r}; choose from {', '.join(list_targets())} or all")
    return _TARGETS[name]


def per_image(run_one: Callable[[np.ndarray], np.ndarray]) -> Runner:
    """Lift a batch-1 runner to batches."""

    def run(x: np.ndarray) -> np.ndarray:
        return np.concatenate([run_one(np.ascontiguousarray(x[i : i + 1], dtype=np.float32)) for i in range(len(x))])

    return run
