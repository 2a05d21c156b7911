"""One interface for "a DRNet I can run", deploy side: :class:`RunnableDRNet` is everything evaluation
(:func:`drnet_edge.runtime.outputs.predict_folder`, batched) and the deployed loop
(:class:`drnet_edge.runtime.loop.Pipeline`, photo by photo) read from a model. Converted files
(:class:`~drnet_edge.runtime.artifacts.ArtifactDRNet`) implement it here; a PyTorch model implements it on the
build side (:class:`drnet_edge.models.runnable.TorchRunnable`). Batches are numpy arrays. This module imports
no PyTorch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

import numpy as np

from ..data.classes import ClassList
from ..data.preprocess import Preprocess


@runtime_checkable
class RunnableDRNet(Protocol):
    """What evaluation, calibration, the deployed loop and the bench read from a model: nothing else."""

    resolutions: list[int]  # largest first
    preprocess: Preprocess
    backbone_name: str
    default_policy: str | None  # the calibrated default policy's name, if any
    policy: dict[str, Any] | None  # that policy's record (name, spec, ...), as calibrate wrote it
    classes: ClassList
    precision: str  # "fp32", "int8", ...
    backbone_inputs: list[dict | None]  # per resolution, the input tensor's dtype and quantisation (None: float)
    predictor_input: dict | None

    @property
    def thumb_size(self) -> int: ...  # the predictor's input size (0 without predictor)

    @property
    def has_predictor(self) -> bool: ...

    @property
    def num_classes(self) -> int: ...

    @property
    def predictor(self) -> Callable[[np.ndarray], np.ndarray] | None:
        """The predictor on one model input (the deployed loop): its logits over the resolutions."""
        ...

    def backbone(self, index: int) -> Callable[[np.ndarray], np.ndarray]:
        """The backbone at ``resolutions[index]`` on one model input (the deployed loop): its logits."""
        ...

    def backbone_at(self, x: np.ndarray, index: int) -> np.ndarray:
        """Logits of a float32 NCHW batch already at ``resolutions[index]``."""
        ...

    def choose(self, thumb: np.ndarray) -> np.ndarray:
        """The predictor's resolution index per image (int64)."""
        ...

    def predictor_macs(self) -> int: ...

    def backbone_macs(self, index: int) -> int: ...


def macs_by_resolution(model: RunnableDRNet) -> dict[int, int]:
    """MACs of one backbone pass at each of the model's resolutions."""
    return {r: model.backbone_macs(k) for k, r in enumerate(model.resolutions)}
