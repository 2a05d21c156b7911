"""One interface for "a DRNet I can run": the PyTorch :class:`~drnet_edge.drnet.DRNet` (a plain backbone
is a DRNet without predictor) and converted artifacts (:class:`~drnet_edge.runtime.ArtifactDRNet`)."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import torch

from .preprocess import Preprocess


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

    def backbone_at(self, x: torch.Tensor, index: int) -> torch.Tensor:
        """Logits of a batch already at ``resolutions[index]``."""
        ...

    def choose(self, thumb: torch.Tensor) -> torch.Tensor:
        """The predictor's resolution index per image."""
        ...

    def predictor_macs(self) -> int: ...

    def backbone_macs(self, index: int) -> int: ...


def macs_by_resolution(model: RunnableDRNet) -> dict[int, int]:
    """MACs of one backbone pass at each of the model's resolutions."""
    return {r: model.backbone_macs(k) for k, r in enumerate(model.resolutions)}


def run_at_chosen(model: RunnableDRNet, crops: dict[int, torch.Tensor], choice: torch.Tensor) -> torch.Tensor:
    """Logits when image ``i`` runs once, at ``resolutions[choice[i]]`` (``crops[r]``: the batch at ``r``).

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
