"""MAC accounting with ``torch.utils.flop_counter.FlopCounterMode`` (MACs = FLOPs / 2).

Counts are cached in memory and on disk (``$XDG_CACHE_HOME/drnet-edge/macs.json``),
keyed by (backbone name, number of classes, resolution).
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from .._io import atomic_write_text


def count_macs(model: nn.Module, input_size: int | tuple[int, int], *args: object) -> int:
    """Multiply-accumulates of one forward pass on a 1x3xHxW input (extra args passed through)."""
    h, w = (input_size, input_size) if isinstance(input_size, int) else input_size
    x = torch.zeros(1, 3, h, w)
    was_training = model.training
    model.eval()
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(x, *args)
    model.train(was_training)
    return counter.get_total_flops() // 2


def _cache_file() -> Path:
    from .._io import cache_dir

    return cache_dir() / "macs.json"


_MEMO: dict[str, int] = {}


def backbone_macs(name: str, resolution: int, num_classes: int = 1000, model: nn.Module | None = None) -> int:
    """MACs of backbone ``name`` at ``resolution`` (cached per model and resolution)."""
    key = f"{name}|{num_classes}|{resolution}"
    if key in _MEMO:
        return _MEMO[key]
    path = _cache_file()
    try:
        disk = json.loads(path.read_text()) if path.is_file() else {}
    except (OSError, ValueError):
        disk = {}
    if key not in disk:
        if model is None:
            from .backbones import create_backbone

            with torch.random.fork_rng():  # building a throw-away model must not shift anyone's random stream
                model = create_backbone(name, pretrained=False, num_classes=num_classes)
        disk[key] = count_macs(model, resolution)
        try:
            atomic_write_text(path, json.dumps(disk, indent=1, sort_keys=True))
        except OSError:
            pass  # a read-only home only loses the cache
    _MEMO[key] = int(disk[key])
    return _MEMO[key]
