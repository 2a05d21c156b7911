"""PyTorch models behind the deploy side's :class:`~drnet_edge.runtime.interface.RunnableDRNet` (build side):
:class:`TorchRunnable` (a checkpoint, a bundled model or a plain backbone, fp32 on this CPU, numpy in and
out), the openers :func:`drnet_edge.runtime.source.open_model` resolves for ``--model`` and ``--backbone``,
and :class:`TorchAsNumpy` (a PyTorch DRNet's batches as numpy arrays)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from ..data.classes import ClassList
from ..runtime.source import ModelFacts, ModelSource
from .drnet import DRNet


class TorchAsNumpy:
    """A PyTorch :class:`~drnet_edge.models.drnet.DRNet` behind numpy batches: ``backbone_at`` and ``choose``
    take float32 NCHW arrays and give numpy arrays (no gradients, on the model's CPU); every other
    attribute is the model's."""

    def __init__(self, model: Any) -> None:
        self.model = model

    def __getattr__(self, name: str) -> Any:
        return getattr(self.model, name)

    def backbone_at(self, x: np.ndarray, index: int) -> np.ndarray:
        with torch.no_grad():
            return self.model.backbone_at(torch.from_numpy(x), index).numpy()

    def choose(self, thumb: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return self.model.choose(torch.from_numpy(thumb)).numpy().astype(np.int64)


class TorchRunnable:
    """A PyTorch DRNet (fp32, this CPU) behind the whole :class:`~drnet_edge.runtime.interface.RunnableDRNet`
    interface: batches for evaluation, single inputs for the deployed loop, numpy in and out, no gradients."""

    precision = "fp32"

    def __init__(self, net: DRNet, classes: ClassList, policy: dict[str, Any] | None = None) -> None:
        self.net = net.eval()
        self._numpy = TorchAsNumpy(self.net)
        self.classes = classes
        self.policy = policy
        self.default_policy: str | None = (policy or {}).get("name") or net.default_policy
        self.resolutions: list[int] = list(net.resolutions)
        self.preprocess = net.preprocess
        self.backbone_name: str = net.backbone_name
        self.backbone_inputs: list[dict | None] = [None] * len(self.resolutions)  # float inputs everywhere
        self.predictor_input: dict | None = None

    @property
    def thumb_size(self) -> int:
        return self.net.thumb_size

    @property
    def has_predictor(self) -> bool:
        return self.net.has_predictor

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def predictor(self) -> Callable[[np.ndarray], np.ndarray] | None:
        return self._predictor if self.net.has_predictor else None

    def _predictor(self, x: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return self.net.predictor(torch.from_numpy(x)).numpy()

    def backbone(self, index: int) -> Callable[[np.ndarray], np.ndarray]:
        return lambda x: self._numpy.backbone_at(x, index)

    def backbone_at(self, x: np.ndarray, index: int) -> np.ndarray:
        return self._numpy.backbone_at(x, index)

    def choose(self, thumb: np.ndarray) -> np.ndarray:
        return self._numpy.choose(thumb)

    def predictor_macs(self) -> int:
        return self.net.predictor_macs()

    def backbone_macs(self, index: int) -> int:
        return self.net.backbone_macs(index)

    def eval(self) -> TorchRunnable:
        return self


def _threads(threads: int | None) -> None:
    if threads:
        torch.set_num_threads(threads)


def open_checkpoint(source: ModelSource, threads: int | None) -> tuple[TorchRunnable, ClassList]:
    """:func:`~drnet_edge.runtime.source.open_model`'s opener for a checkpoint or bundled model."""
    from .checkpoint import load_model

    assert source.model is not None
    _threads(threads)
    net, classes, ckpt = load_model(source.model, backbone=source.backbone, resolutions=source.resolution_list())
    return TorchRunnable(net, classes, ckpt.get("policy")), classes


def open_backbone(source: ModelSource, threads: int | None) -> tuple[TorchRunnable, None]:
    """The opener for a plain backbone (``--backbone``, optional ``--weights``): a DRNet without predictor at
    the given resolutions (default: the backbone's), ImageNet's classes."""
    from ..data.classes import imagenet_classes
    from .backbones import create_backbone, get_backbone_cfg

    assert source.backbone is not None
    _threads(threads)
    cfg = get_backbone_cfg(source.backbone)
    res = source.resolution_list() or list(cfg.resolutions)
    backbone = create_backbone(source.backbone, weights=source.weights)
    net = DRNet(backbone, res, None, cfg.preprocess, backbone_name=source.backbone)
    return TorchRunnable(net, imagenet_classes()), None


def checkpoint_facts(source: ModelSource) -> ModelFacts | None:
    """A checkpoint's resolutions, default policy and predictor from its metadata (no model built); None
    when ``--backbone``/``--resolutions`` disagree with it (loading says how)."""
    from .checkpoint import describe_checkpoint

    assert source.model is not None
    info = describe_checkpoint(source.model)
    res = source.resolution_list()
    if (source.backbone is not None and source.backbone != info.backbone) or (
        res is not None and res != info.resolutions
    ):
        return None
    return ModelFacts(info.resolutions, info.default_policy, info.has_predictor)


def backbone_facts(source: ModelSource) -> ModelFacts:
    """A plain backbone: its resolutions (given or registered), no default policy, no predictor."""
    from .backbones import get_backbone_cfg

    assert source.backbone is not None
    res = source.resolution_list() or list(get_backbone_cfg(source.backbone).resolutions)
    return ModelFacts(res, None, False)
