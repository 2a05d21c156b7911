"""One interface for "a DRNet I can run": the PyTorch :class:`~drnet_edge.models.drnet.DRNet` (a plain backbone
is a DRNet without predictor) and converted artifacts (:class:`~drnet_edge.runtime.artifacts.ArtifactDRNet`).

Batches are each model's own array type: torch tensors for a :class:`~drnet_edge.models.drnet.DRNet`, numpy
arrays for :class:`~drnet_edge.runtime.artifacts.ArtifactDRNet`. :class:`TorchAsNumpy` (build side: PyTorch is
imported only when one is made) puts a PyTorch model behind numpy batches, so evaluation runs both
through one numpy loop (:func:`drnet_edge.runtime.outputs.predict_folder`); :class:`CheckpointModel` puts a
checkpoint behind what the deployed loop reads (``predict --model``). This module imports no PyTorch.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from ..data.preprocess import Preprocess

if TYPE_CHECKING:
    import torch


@runtime_checkable
class RunnableDRNet(Protocol):
    """What evaluation, calibration and the bench need from a model."""

    resolutions: list[int]  # largest first
    preprocess: Preprocess
    backbone_name: str
    default_policy: str | None  # the calibrated default policy's name, if any

    @property
    def thumb_size(self) -> int: ...  # the predictor's input size (0 without predictor)

    @property
    def has_predictor(self) -> bool: ...

    @property
    def num_classes(self) -> int: ...

    def backbone_at(self, x: Any, index: int) -> Any:
        """Logits of a batch already at ``resolutions[index]`` (the model's array type)."""
        ...

    def choose(self, thumb: Any) -> Any:
        """The predictor's resolution index per image (the model's array type)."""
        ...

    def predictor_macs(self) -> int: ...

    def backbone_macs(self, index: int) -> int: ...


class TorchAsNumpy:
    """A PyTorch :class:`~drnet_edge.models.drnet.DRNet` behind numpy batches: ``backbone_at`` and ``choose``
    take float32 NCHW arrays and give numpy arrays (no gradients, on the model's CPU); every other
    attribute is the model's."""

    def __init__(self, model: Any) -> None:
        import torch

        self.model, self._torch = model, torch

    def __getattr__(self, name: str) -> Any:
        return getattr(self.model, name)

    def backbone_at(self, x: np.ndarray, index: int) -> np.ndarray:
        with self._torch.no_grad():
            return self.model.backbone_at(self._torch.from_numpy(x), index).numpy()

    def choose(self, thumb: np.ndarray) -> np.ndarray:
        with self._torch.no_grad():
            return self.model.choose(self._torch.from_numpy(thumb)).numpy().astype(np.int64)


def macs_by_resolution(model: RunnableDRNet) -> dict[int, int]:
    """MACs of one backbone pass at each of the model's resolutions."""
    return {r: model.backbone_macs(k) for k, r in enumerate(model.resolutions)}


def run_at_chosen(model: RunnableDRNet, crops: dict[int, torch.Tensor], choice: torch.Tensor) -> torch.Tensor:
    """Logits when image ``i`` runs once, at ``resolutions[choice[i]]`` (``crops[r]``: the batch at ``r``;
    a PyTorch model's tensors).

    Images are grouped by resolution so each group is one backbone call."""
    out: torch.Tensor | None = None
    for k in choice.unique().tolist():
        idx = (choice == k).nonzero(as_tuple=True)[0]
        logits = model.backbone_at(crops[model.resolutions[k]][idx], k)
        if out is None:
            out = logits.new_zeros(choice.shape[0], logits.shape[1])
        out[idx] = logits
    assert out is not None, "empty batch"
    return out


class CheckpointModel:
    """A checkpoint or bundled model (fp32, PyTorch on this CPU) behind the attributes the deployed loop
    (:class:`~drnet_edge.bench.pipelines.Pipeline`) reads from converted files: numpy in, numpy out, the
    checkpoint's default policy. Build side: needs the ``[build]`` extra."""

    precision = "fp32"

    def __init__(self, name_or_path: str | Path, threads: int | None = None) -> None:
        import torch

        from ..models.checkpoint import load_model

        if threads:
            torch.set_num_threads(threads)
        net, self.classes, ckpt = load_model(name_or_path)
        self.net, self._torch = net.eval(), torch
        self._numpy = TorchAsNumpy(self.net)  # backbone passes on numpy batches, no gradients
        self.resolutions: list[int] = list(net.resolutions)
        self.preprocess = net.preprocess
        self.policy: dict | None = ckpt.get("policy")
        self.backbone_inputs: list[dict | None] = [None] * len(self.resolutions)  # float inputs everywhere
        self.predictor_input: dict | None = None
        self.thumb_size: int = net.thumb_size
        self.predictor = self._predictor if net.has_predictor else None

    @property
    def has_predictor(self) -> bool:
        return self.predictor is not None

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def backbone(self, index: int) -> Callable[[np.ndarray], np.ndarray]:
        return lambda x: self._numpy.backbone_at(x, index)

    def _predictor(self, x: np.ndarray) -> np.ndarray:
        with self._torch.no_grad():
            return self.net.predictor(self._torch.from_numpy(x)).numpy()
