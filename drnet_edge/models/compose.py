"""A DRNet with some of its passes taken from another checkpoint (``convert --pass-from RES=MODEL``).

A converted DRNet is one file per resolution, so a resolution's pass can come from a different checkpoint
of the same backbone graph, classes and preprocessing: for example the plain fine-tune as the 224 px pass
of a cascade whose small passes are the DRNet's (RESULTS 6c measures that "hybrid"). The predictor, the
other passes and the checkpoint's default policy stay the DRNet's; the policy's first pass and thresholds
do not change, only the answers at the borrowed resolution (calibrate the folder again on photos the
models did not train on: ``convert --policy-data``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .._io import sha256_file
from ..data.classes import ClassList
from ..errors import ConfigError
from ..runtime.bundled import resolve_model
from .drnet import DRNet, fold_resolution


class ComposedDRNet(DRNet):
    """``net`` with the pass at some resolutions run by another model (``donors``: resolution index ->
    (donor, the donor's index for that resolution)). Everything else (predictor, preprocessing, the other
    passes, the default policy) is ``net``'s."""

    def __init__(self, net: DRNet, donors: dict[int, tuple[DRNet, int]]) -> None:
        super().__init__(net.backbone, net.resolutions, net.predictor, net.preprocess, backbone_name=net.backbone_name)
        self.default_policy = net.default_policy
        self.donors = nn.ModuleDict({str(k): d for k, (d, _) in donors.items()})
        self.donor_index = {k: j for k, (_, j) in donors.items()}

    def _donor(self, index: int) -> tuple[DRNet, int] | None:
        return (self.donors[str(index)], self.donor_index[index]) if index in self.donor_index else None  # type: ignore[return-value]

    def backbone_at(self, x: torch.Tensor, index: int) -> torch.Tensor:
        d = self._donor(index)
        return d[0].backbone_at(x, d[1]) if d else super().backbone_at(x, index)

    def backbone_macs(self, index: int) -> int:
        d = self._donor(index)
        return d[0].backbone_macs(d[1]) if d else super().backbone_macs(index)

    def folded_backbone(self, index: int) -> nn.Module:
        d = self._donor(index)
        return fold_resolution(d[0].backbone, d[1]) if d else super().folded_backbone(index)

    @property
    def one_weight_set(self) -> bool:
        return False


Loader = Callable[[int, str | Path], tuple[DRNet, ClassList]]  # (resolution, checkpoint) -> its model, classes


def compose(
    net: DRNet, classes: ClassList, passes: dict[int, str | Path], load: Loader, flag: str = "--pass-from"
) -> tuple[DRNet, dict[str, dict[str, Any]]]:
    """``net`` with each resolution in ``passes`` run by that checkpoint (path or bundled name), loaded by
    ``load`` (the caller's: ``convert`` loads checkpoints, this module does not): the composed model and,
    per resolution, where its pass came from (``{"model", "sha256"}``, for the manifest). Refused before any
    work, naming ``flag``: a resolution ``net`` lacks (before any checkpoint loads), or a checkpoint with
    another backbone graph, other classes or preprocessing, or without that resolution."""
    if not passes:
        return net, {}
    for r, src in passes.items():
        if r not in net.resolutions:
            raise ConfigError(f"{flag} {r}={src}: {r} px is not one of the model's resolutions ({net.resolutions})")
    donors: dict[int, tuple[DRNet, int]] = {}
    record: dict[str, dict[str, Any]] = {}
    for r, src in sorted(passes.items(), reverse=True):
        donor, dclasses = load(r, src)
        what = f"{flag} {r}={src}"
        if donor.backbone_name != net.backbone_name:
            raise ConfigError(
                f"{what}: that checkpoint is a {donor.backbone_name} and the model a {net.backbone_name}; a pass can "
                "only come from the same backbone graph (the manifest describes one)"
            )
        if tuple(dclasses.ids) != tuple(classes.ids):
            raise ConfigError(
                f"{what}: that checkpoint has other classes ({len(dclasses)}) than the model ({len(classes)})"
            )
        if donor.preprocess != net.preprocess:
            raise ConfigError(f"{what}: that checkpoint preprocesses its input differently from the model")
        if r not in donor.resolutions:
            raise ConfigError(f"{what}: that checkpoint has no {r} px pass (it has {donor.resolutions})")
        donors[net.resolutions.index(r)] = (donor.eval(), donor.resolutions.index(r))
        record[str(r)] = {"model": str(src), "sha256": sha256_file(resolve_model(src))}
    return ComposedDRNet(net, donors), record
