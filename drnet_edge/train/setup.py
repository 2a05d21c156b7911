"""Model set-up for a training run: the class list, the DRNet to train (fresh, or a frozen trained
one in predictor mode), its MACs table and target, and the one way weights come in from a checkpoint
(``--init-from`` and ``--resume`` alike)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import torch

from .._io import atomic_write_text
from ..data.classes import ClassList, imagenet_classes, read_class_file
from ..data.folders import ImageFolder, scan_folder
from ..errors import CheckpointError, ConfigError
from ..models.backbones import create_backbone, get_backbone_cfg, replace_head
from ..models.checkpoint import build_model, read_checkpoint
from ..models.drnet import DRNet, PredictorCfg, ResolutionPredictor, make_resolution_aware
from ..models.macs import backbone_macs
from ..runtime.bundled import resolve_model
from .config import TrainConfig, _few


def _init_checkpoint(cfg: TrainConfig, resolutions: list[int]) -> dict[str, Any]:
    """The ``--init-from`` checkpoint, refused unless it is a ``cfg.backbone`` DRNet at ``resolutions``."""
    ckpt = read_checkpoint(resolve_model(str(cfg.init_from)))
    if ckpt["backbone"] != cfg.backbone or list(ckpt["resolutions"]) != list(resolutions):
        raise CheckpointError(
            f"--init-from {cfg.init_from}: a {ckpt['backbone']} DRNet at {ckpt['resolutions']}, "
            f"not {cfg.backbone} at {list(resolutions)}"
        )
    return ckpt


def _frozen_drnet(cfg: TrainConfig) -> tuple[DRNet, ClassList] | None:
    """Predictor mode on a trained DRNet (``--init-from``): that DRNet (its backbone stays frozen) and
    its class list."""
    if cfg.mode != "predictor" or not cfg.init_from:
        return None
    return build_model(_init_checkpoint(cfg, cfg.resolutions))


def load_weights(model: DRNet, ckpt: dict[str, Any], source: str) -> None:
    """Copy ``ckpt``'s backbone, and its predictor when both sides have one, into ``model``: the one
    weights-loading path of ``--init-from`` and ``--resume``. ``source`` names the option and file."""
    saved, _ = build_model(ckpt)
    try:
        model.backbone.load_state_dict(saved.backbone.state_dict())
        if model.predictor is not None and saved.predictor is not None:
            model.predictor.load_state_dict(saved.predictor.state_dict())
    except RuntimeError as exc:
        raise CheckpointError(f"{source}: tensors do not fit (resolution-aware BN on one side only?): {exc}") from exc


def init_from_checkpoint(cfg: TrainConfig, model: DRNet, classes: ClassList) -> None:
    """``--init-from`` for joint/plain runs: the checkpoint's weights, refused unless its classes are ours."""
    ckpt = _init_checkpoint(cfg, model.resolutions)
    if tuple(ckpt["classes"]["ids"]) != classes.ids:
        raise CheckpointError(f"--init-from {cfg.init_from}: its classes differ from the training folder's")
    load_weights(model, ckpt, f"--init-from {cfg.init_from}")


def _classes_for(cfg: TrainConfig, frozen_classes: ClassList | None = None) -> tuple[ImageFolder, ClassList, bool]:
    """The training folder, its class list and whether the ImageNet head is kept. A frozen DRNet's
    class list (``frozen_classes``) is used unless ``--classes`` is given; folders map to it by name."""
    given = read_class_file(cfg.classes) if cfg.classes else frozen_classes
    folder = scan_folder(cfg.data, classes=given, limit=cfg.limit, subset=cfg.subset)
    if folder.classes is None:
        raise ConfigError(f"{cfg.data} is a flat folder; training needs one sub-folder per class")
    for extra in cfg.extra_data:
        more = scan_folder(extra, classes=folder.classes)
        folder.paths += more.paths
        folder.labels += more.labels
    imagenet = folder.classes.ids == imagenet_classes().ids
    if imagenet and cfg.mode != "predictor" and given is None:
        # fine-tuning on a subset of ImageNet classes (e.g. Imagewoof): a head for the present classes only
        present = sorted({folder.classes.ids[label] for label in folder.labels})  # --extra-data's too
        if len(present) < len(folder.classes):
            names = dict(zip(folder.classes.ids, folder.classes.names, strict=True))
            own = ClassList(
                tuple(present),
                tuple(names[w] for w in present),
                f"the data folder's own {len(present)} classes (wnids)",
            )
            return _classes_for(_with_classes(cfg, own))
    if cfg.mode == "predictor" and not imagenet and cfg.weights is None and frozen_classes is None:
        raise ConfigError(
            "predictor mode keeps the backbone frozen, so it needs a backbone already trained on these classes "
            "(ImageNet wnid folders for the pretrained weights, --init-from a DRNet trained on them, or --weights PATH "
            f"with a matching head); for your own classes ({_few(folder.classes.names)}) use --mode joint, "
            "or --mode plain for the fixed-resolution baseline"
        )
    return folder, folder.classes, imagenet


def _with_classes(cfg: TrainConfig, classes: ClassList) -> TrainConfig:
    """A copy of ``cfg`` whose class list is fixed (written next to the checkpoint)."""
    path = Path(str(cfg.out) + ".classes.txt")
    atomic_write_text(path, "".join(f"{i} {n}\n" for i, n in zip(classes.ids, classes.names, strict=True)))
    return dataclasses.replace(cfg, classes=str(path))


def build_for_training(cfg: TrainConfig, classes: ClassList, imagenet_head: bool, frozen: DRNet | None = None) -> DRNet:
    if frozen is not None:  # predictor mode on a trained DRNet: keep its backbone (and its BN layout)
        old = frozen.predictor
        if old is None or cfg.fresh_predictor:
            frozen.predictor = ResolutionPredictor(PredictorCfg(len(cfg.resolutions), thumb_size=cfg.thumb_size))
        elif old.cfg.thumb_size != cfg.thumb_size:  # another --thumb-size starts from the same weights: no
            # layer's shape depends on the thumbnail's size
            frozen.predictor = ResolutionPredictor(dataclasses.replace(old.cfg, thumb_size=cfg.thumb_size), False)
            frozen.predictor.load_state_dict(old.state_dict())
        return frozen
    bcfg = get_backbone_cfg(cfg.backbone)
    if cfg.weights is not None:
        backbone = create_backbone(cfg.backbone, weights=cfg.weights, num_classes=len(classes))
    else:
        backbone = create_backbone(cfg.backbone)
        if not imagenet_head:
            torch.manual_seed(cfg.seed)
            replace_head(backbone, len(classes))
    if cfg.mode == "joint" and cfg.resolution_bn:
        make_resolution_aware(backbone, len(cfg.resolutions))
    predictor = None
    if cfg.mode != "plain":
        predictor = ResolutionPredictor(PredictorCfg(len(cfg.resolutions), thumb_size=cfg.thumb_size))
    res = [max(cfg.resolutions)] if cfg.mode == "plain" else cfg.resolutions
    return DRNet(backbone, res, predictor, bcfg.preprocess, backbone_name=cfg.backbone)


def macs_table(model: DRNet, num_classes: int) -> tuple[torch.Tensor, int]:
    """Backbone MACs per resolution (tensor, in millions) and the predictor's MACs."""
    macs = torch.tensor([backbone_macs(model.backbone_name, r, num_classes) / 1e6 for r in model.resolutions])
    return macs, model.predictor_macs()


def target_macs_m(cfg: TrainConfig, macs: torch.Tensor) -> float:
    return cfg.target_macs if cfg.target_macs is not None else float(cfg.target_ratio or 1.0) * float(macs.max())
