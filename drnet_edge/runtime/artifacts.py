"""Run converted artifacts (any target) as a DRNet: predictor on the thumbnail, backbones by resolution
index. Every file is checked against the manifest's sha256 before loading; only numpy and the target's
runtime package are needed (not its export tools, nor PyTorch: batches are numpy arrays)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import ConfigError, DrnetEdgeError
from .manifest import Manifest, ModelEntry, verify_artifacts

if TYPE_CHECKING:
    from drnet_edge.converters.base import Runner

    from ..data.classes import ClassList
    from .source import ModelFacts, ModelSource


class ArtifactDRNet:
    """Converted models behind the :class:`~drnet_edge.runtime.interface.RunnableDRNet` interface (its
    whole interface: what evaluation replays and what the deployed loop reads)."""

    def __init__(self, artifacts: str | Path, target: str, threads: int | None = None) -> None:
        from drnet_edge.converters import get_target

        t = get_target(target)
        t.check_runtime()
        self.manifest: Manifest = verify_artifacts(artifacts, target)
        self.target = target
        self.root = Path(artifacts)
        m = self.manifest
        self.entry = m.target(target)
        self.resolutions: list[int] = list(m.resolutions)
        self.backbone_name: str = m.backbone
        self.preprocess = m.preprocess
        self.classes = m.classes
        self.precision = self.entry.precision
        self.threads = threads
        self.policy: dict | None = m.policy_for(target)  # calibrated on these files, else the checkpoint's
        self.default_policy: str | None = (self.policy or {}).get("name")
        self.load_ms: dict[str, float] = {}  # wall time to load each model into its runtime
        self._runners: dict[str, Runner] = {}
        for name, info in self.entry.models.items():
            t0 = time.perf_counter()
            self._runners[name] = t.load(self.root / info.file, threads, entry=info.entry)
            self.load_ms[name] = 1e3 * (time.perf_counter() - t0)
        pred = self.entry.predictor
        self.predictor: Runner | None = self._runners[pred.name] if pred is not None else None
        self._backbones: list[Runner] = [self._runners[e.name] for e in self.entry.backbones()]
        # each model's input tensor (dtype, quantisation) as the manifest records it: pixels go straight
        # to an int8 input (preprocess.to_model_input), float inputs get the normalised float array
        self.predictor_input: dict | None = pred.input_spec if pred is not None else None
        self.backbone_inputs: list[dict | None] = [e.input_spec for e in self.entry.backbones()]
        if len(self._backbones) != len(self.resolutions):
            raise ConfigError(f"{self.root}: {len(self._backbones)} backbones for {len(self.resolutions)} resolutions")

    @property
    def models(self) -> dict[str, ModelEntry]:
        return self.entry.models

    @property
    def thumb_size(self) -> int:
        return self.manifest.predictor_input or 0

    @property
    def has_predictor(self) -> bool:
        return self.predictor is not None

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def eval(self) -> ArtifactDRNet:
        return self

    def backbone(self, index: int) -> Runner:
        """The runner of resolution index ``index``'s backbone."""
        return self._backbones[index]

    def backbone_at(self, x: np.ndarray, index: int) -> np.ndarray:
        """Logits (float32) of a float32 NCHW batch already at ``resolutions[index]``."""
        return np.asarray(self._backbones[index](x))

    def choose(self, thumb: np.ndarray) -> np.ndarray:
        """The predictor's resolution index per image (int64; all 0 without a predictor)."""
        if self.predictor is None:
            return np.zeros(thumb.shape[0], dtype=np.int64)
        return np.asarray(self.predictor(thumb)).argmax(1).astype(np.int64)

    def predictor_macs(self) -> int:
        pred = self.entry.predictor
        return pred.macs if pred is not None else 0

    def backbone_macs(self, index: int) -> int:
        return self.entry.backbone(index).macs

    def runner(self, name: str) -> Runner:
        """The loaded runner of model ``name`` as listed in the manifest."""
        if name not in self._runners:
            raise ConfigError(f"no {name} in the artifacts (they hold: {', '.join(self._runners)})")
        return self._runners[name]


def open_artifacts(source: ModelSource, threads: int | None) -> tuple[ArtifactDRNet, ClassList | None]:
    """:func:`~drnet_edge.runtime.source.open_model`'s opener for converted files (``source`` resolved:
    its runtime chosen)."""
    assert source.artifacts is not None and source.runtime is not None
    art = ArtifactDRNet(source.artifacts, source.runtime, threads=threads)
    return art, art.classes


def artifact_facts(source: ModelSource) -> ModelFacts | None:
    """Converted files' resolutions, default policy and predictor, from their manifest alone."""
    from .manifest import read_manifest
    from .source import ModelFacts

    assert source.artifacts is not None and source.runtime is not None
    try:
        m = read_manifest(source.artifacts)
        entry = m.target(source.runtime)
    except DrnetEdgeError:
        return None
    return ModelFacts(
        list(m.resolutions), (m.policy_for(source.runtime) or {}).get("name"), entry.predictor is not None
    )
