"""The one door to a model to run: converted files (``--artifacts``), a checkpoint or bundled model
(``--model``), or a plain backbone (``--backbone``). ``eval``, ``calibrate``, ``predict``, the bench and
``convert --policy-data`` open every model through :func:`open_model`, and check policies against
:func:`model_facts` (the metadata alone, no model built) before any loads.

Each kind of source has an opener, registered by name (``"module:function"``, resolved when a source of
that kind is opened, as a package entry point is): converted files open here, on the deploy side;
checkpoints and backbones open on the build side (:mod:`drnet_edge.models.runnable`, PyTorch), so this
module imports neither PyTorch nor any build-side module. On a deploy-side install opening a checkpoint
ends in the one-line "needs PyTorch" error.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..data.classes import ClassList
from ..errors import ConfigError, DrnetEdgeError
from ..resolutions import parse_resolutions
from .bundled import DEFAULT_MODEL, list_models
from .interface import RunnableDRNet


@dataclass(frozen=True)
class ModelSource:
    """What to run. ``artifacts`` (+ ``runtime``, default: the manifest's choice), ``model`` (a checkpoint
    path or bundled name, + optional ``backbone``/``resolutions`` that must match it) or ``backbone`` (+
    ``weights``, ``resolutions``); with none of these, the bundled default model."""

    artifacts: str | Path | None = None
    runtime: str | None = None
    model: str | Path | None = None
    backbone: str | None = None
    weights: str | Path | None = None
    resolutions: list[int] | str | None = field(default=None, compare=False)
    device: str = "local"  # where converted files will run (the manifest's choice of runtime depends on it)

    @property
    def kind(self) -> str:
        if self.artifacts is not None or self.runtime is not None:
            return "artifacts"
        return "checkpoint" if self.model is not None else "backbone"

    def resolved(self) -> ModelSource:
        """The source checked (one-line errors for flags that do not go together), with the default model
        filled in and, for converted files, the runtime chosen from their manifest."""
        if self.kind == "artifacts":
            if self.artifacts is None:
                raise ConfigError("--runtime picks among converted files: give --artifacts DIR with it")
            if self.model is not None or self.backbone is not None or self.weights is not None:
                raise ConfigError("--artifacts already fix the model; drop --model/--backbone/--weights")
            from .manifest import choose_runtime, read_manifest

            return replace(self, runtime=choose_runtime(read_manifest(self.artifacts), self.runtime, self.device))
        if self.model is not None and self.weights is not None:
            raise ConfigError("--weights applies to --backbone; a --model checkpoint carries its own weights")
        if self.model is None and self.backbone is None:  # the bundled default model, else plain Lite0
            return (
                replace(self, model=DEFAULT_MODEL)
                if DEFAULT_MODEL in list_models()
                else replace(self, backbone="efficientnet_lite0")
            )
        return self

    def resolution_list(self) -> list[int] | None:
        return parse_resolutions(self.resolutions) if self.resolutions else None


@dataclass(frozen=True)
class ModelFacts:
    """What policies are checked against, read from a model's metadata before it loads."""

    resolutions: list[int]
    default_policy: str | None
    has_predictor: bool


@dataclass(frozen=True)
class Opener:
    """How one kind of source opens (``"module:function"`` each): ``open(source, threads)`` gives the
    model and its class list (None: ImageNet's); ``facts(source)`` its :class:`ModelFacts` from metadata
    alone, or None where only loading can tell (the loading then says what is wrong)."""

    open: str
    facts: str


OPENERS: dict[str, Opener] = {
    "artifacts": Opener("drnet_edge.runtime.artifacts:open_artifacts", "drnet_edge.runtime.artifacts:artifact_facts"),
    "checkpoint": Opener("drnet_edge.models.runnable:open_checkpoint", "drnet_edge.models.runnable:checkpoint_facts"),
    "backbone": Opener("drnet_edge.models.runnable:open_backbone", "drnet_edge.models.runnable:backbone_facts"),
}


def register_opener(kind: str, opener: Opener) -> None:
    """Open another kind of source (a new runtime family, a remote model store) through the same door."""
    OPENERS[kind] = opener


def _resolve(ref: str) -> Callable[..., Any]:
    module, _, name = ref.partition(":")
    return getattr(importlib.import_module(module), name)


def open_model(source: ModelSource, *, threads: int | None = None) -> tuple[RunnableDRNet, ClassList | None]:
    """The model ``source`` names, behind :class:`RunnableDRNet`, and its own class list (None for
    ImageNet's). Converted files run in the runtime their manifest chooses unless ``source.runtime`` names
    one (``source.resolved().runtime`` says which)."""
    src = source.resolved()
    return _resolve(OPENERS[src.kind].open)(src, threads)


def model_facts(source: ModelSource) -> ModelFacts | None:
    """The resolutions, default policy and predictor of the model :func:`open_model` would open, from its
    checkpoint's metadata or its manifest (no model built); None where only loading can tell."""
    try:
        src = source.resolved()
    except DrnetEdgeError:
        return None  # opening says what is wrong
    return _resolve(OPENERS[src.kind].facts)(src)
