"""The DRNet model: resolution predictor + one backbone with resolution-aware BatchNorm.

* :class:`ResolutionBN` keeps one BatchNorm (statistics and affine) per candidate resolution and
  runs the one selected by :func:`set_resolution`; convolutions stay shared.
* :class:`ResolutionPredictor` is a small CNN on a thumbnail: the stem and first stages of
  EfficientNet-Lite0 (ImageNet-initialised) plus a small head giving logits over resolutions.
* :class:`DRNet` ties them together. Inference picks ``argmax`` and runs the backbone once per
  image, at the chosen resolution only, images grouped by resolution.
* :func:`gumbel_choice` and :func:`macs_constraint_loss` are the training pieces of the paper.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..data.preprocess import Preprocess
from ..errors import ConfigError
from .macs import count_macs

# ---------------------------------------------------------------------------------------------
# Resolution-aware BatchNorm
# ---------------------------------------------------------------------------------------------


class ResolutionBN(nn.Module):
    """One copy of a BatchNorm layer per resolution; ``active`` selects which one runs."""

    def __init__(self, bn: nn.Module, num_resolutions: int) -> None:
        super().__init__()
        self.bns = nn.ModuleList(copy.deepcopy(bn) for _ in range(num_resolutions))
        self.active = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bns[self.active](x)


def make_resolution_aware(model: nn.Module, num_resolutions: int) -> int:
    """Replace every BatchNorm (timm's BatchNormAct2d included) by a :class:`ResolutionBN`,
    each copy initialised from the pretrained layer. Returns how many layers were replaced."""
    count = 0
    for name, child in list(model.named_children()):
        if isinstance(child, nn.modules.batchnorm._BatchNorm):
            setattr(model, name, ResolutionBN(child, num_resolutions))
            count += 1
        elif not isinstance(child, ResolutionBN):
            count += make_resolution_aware(child, num_resolutions)
    return count


def set_resolution(model: nn.Module, index: int) -> None:
    """Select resolution ``index``'s BatchNorm everywhere in ``model``."""
    for m in model.modules():
        if isinstance(m, ResolutionBN):
            m.active = index


def fold_resolution(model: nn.Module, index: int) -> nn.Module:
    """A copy of ``model`` with plain BatchNorm layers holding resolution ``index``'s parameters
    (what a converter exports for that resolution)."""
    out = copy.deepcopy(model)

    def swap(mod: nn.Module) -> None:
        for name, child in list(mod.named_children()):
            if isinstance(child, ResolutionBN):
                setattr(mod, name, child.bns[index])
            else:
                swap(child)

    swap(out)
    return out


def has_resolution_bn(model: nn.Module) -> bool:
    return any(isinstance(m, ResolutionBN) for m in model.modules())


# ---------------------------------------------------------------------------------------------
# Predictor
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PredictorCfg:
    """Shape of the predictor; stored in checkpoints so it can be rebuilt exactly."""

    num_resolutions: int
    thumb_size: int = 64
    trunk_stages: int = 4  # stem + this many EfficientNet-Lite0 stages
    head_width: int = 128
    dropout: float = 0.2

    def to_dict(self) -> dict:
        return asdict(self)


class ResolutionPredictor(nn.Module):
    """Small CNN: thumbnail (``thumb_size`` px) -> logits over candidate resolutions."""

    def __init__(self, cfg: PredictorCfg, pretrained_trunk: bool = True) -> None:
        super().__init__()
        from .backbones import create_backbone

        self.cfg = cfg
        # Random init when the weights come from a checkpoint anyway (pretrained_trunk=False).
        lite = create_backbone("efficientnet_lite0", pretrained=pretrained_trunk)
        self.trunk = nn.Sequential(lite.conv_stem, lite.bn1, *lite.blocks[: cfg.trunk_stages])
        with torch.no_grad():
            width = self.trunk(torch.zeros(1, 3, cfg.thumb_size, cfg.thumb_size)).shape[1]
        self.head = nn.Sequential(
            nn.Conv2d(width, cfg.head_width, 1, bias=False),
            nn.BatchNorm2d(cfg.head_width),
            nn.ReLU6(inplace=True),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Dropout(cfg.dropout),
            nn.Linear(cfg.head_width, cfg.num_resolutions),
        )

    def forward(self, thumb: torch.Tensor) -> torch.Tensor:
        return self.head(self.trunk(thumb))


# ---------------------------------------------------------------------------------------------
# Training pieces
# ---------------------------------------------------------------------------------------------


def gumbel_choice(logits: torch.Tensor, tau: float = 1.0) -> torch.Tensor:
    """Hard one-hot sample forward, soft Gumbel-softmax gradient backward (straight-through)."""
    return F.gumbel_softmax(logits, tau=tau, hard=True, dim=-1)


def macs_constraint_loss(expected_macs: torch.Tensor, target: float, c_min: float, c_max: float) -> torch.Tensor:
    """``max(0, (E[MACs] - target) / (C_max - C_min))`` (the paper's FLOPs constraint)."""
    return torch.clamp((expected_macs - target) / max(c_max - c_min, 1.0), min=0.0)


def macs_penalty(
    y: torch.Tensor, macs_m: torch.Tensor, predictor_macs_m: float, target_m: float, eta: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(eta * constraint, E[MACs])`` for choices ``y`` (N x K) over resolutions costing ``macs_m``
    (millions); E[MACs] includes the predictor."""
    expected = predictor_macs_m + (y * macs_m).sum(1).mean()
    return eta * macs_constraint_loss(expected, target_m, float(macs_m.min()), float(macs_m.max())), expected


# ---------------------------------------------------------------------------------------------
# DRNet
# ---------------------------------------------------------------------------------------------


class DRNet(nn.Module):
    """Resolution predictor + backbone (optionally with resolution-aware BN)."""

    def __init__(
        self,
        backbone: nn.Module,
        resolutions: list[int],
        predictor: ResolutionPredictor | None,
        preprocess: Preprocess,
        *,
        backbone_name: str = "",
    ) -> None:
        super().__init__()
        if list(resolutions) != sorted(resolutions, reverse=True) or len(set(resolutions)) != len(resolutions):
            raise ConfigError(f"resolutions must be distinct and sorted largest first, got {resolutions}")
        if predictor is not None and predictor.cfg.num_resolutions != len(resolutions):
            raise ConfigError("the predictor's outputs do not match the number of resolutions")
        self.backbone = backbone
        self.predictor = predictor
        self.resolutions = list(resolutions)
        self.preprocess = preprocess
        self.backbone_name = backbone_name
        self.default_policy: str | None = None  # set from a calibrated checkpoint (drnet-edge calibrate)

    @property
    def has_predictor(self) -> bool:
        return self.predictor is not None

    @property
    def num_classes(self) -> int:
        if isinstance(getattr(self.backbone, "num_classes", None), int):  # timm models say it
            return int(self.backbone.num_classes)
        last = [m for m in self.backbone.modules() if isinstance(m, nn.Linear)]
        if not last:
            raise ConfigError("cannot tell the model's number of classes (no Linear layer)")
        return last[-1].out_features

    def backbone_macs(self, index: int) -> int:
        """MACs of one backbone pass at ``resolutions[index]`` (cached by backbone name when registered)."""
        from .macs import backbone_macs

        r = self.resolutions[index]
        if self.backbone_name:
            return backbone_macs(self.backbone_name, r, self.num_classes)
        return count_macs(self.backbone, r)

    @property
    def thumb_size(self) -> int:
        return self.predictor.cfg.thumb_size if self.predictor is not None else 0

    @property
    def resolution_bn(self) -> bool:
        return has_resolution_bn(self.backbone)

    @property
    def one_weight_set(self) -> bool:
        """Every resolution runs the very same weights (shared BN): a converter may store them once."""
        return not self.resolution_bn

    def folded_backbone(self, index: int) -> nn.Module:
        """The backbone as resolution ``index`` runs it, with plain BN (what a converter exports)."""
        return fold_resolution(self.backbone, index)

    def backbone_at(self, x: torch.Tensor, index: int) -> torch.Tensor:
        """Backbone logits for ``x`` already at resolution ``resolutions[index]``."""
        set_resolution(self.backbone, index)
        return self.backbone(x)

    @torch.no_grad()
    def choose(self, thumb: torch.Tensor) -> torch.Tensor:
        """Index of the chosen resolution per image (argmax of the predictor)."""
        if self.predictor is None:
            return torch.zeros(thumb.shape[0], dtype=torch.long)
        return self.predictor(thumb).argmax(dim=1)

    def predictor_macs(self) -> int:
        if self.predictor is None:
            return 0
        return count_macs(self.predictor, self.thumb_size)
