"""Evaluate a backbone at several resolutions on an image folder, then score resolution policies."""

from __future__ import annotations

import platform
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader

from .backbones import create_backbone, get_backbone_cfg
from .data import ClassList, ImageFolder, MultiResolutionDataset, collate_multires, scan_folder
from .errors import ConfigError, DataError
from .macs import backbone_macs
from .policies import Policy, PolicyResult, Predictions, expand_policies, score
from .preprocess import Preprocess, to_tensor
from .progress import progress_bar


def parse_resolutions(text: str | list[int] | tuple[int, ...]) -> list[int]:
    """``"224,160,128"`` -> ``[224, 160, 128]`` sorted largest first; rejects junk."""
    items = text.split(",") if isinstance(text, str) else list(text)
    try:
        res = sorted({int(str(r).strip()) for r in items if str(r).strip()}, reverse=True)
    except ValueError:
        raise ConfigError(f"--resolutions must be comma-separated integers, got {text!r}") from None
    if not res or any(r < 16 or r > 2048 for r in res):
        raise ConfigError(f"--resolutions must be integers between 16 and 2048, got {text!r}")
    return res


@torch.no_grad()
def predict_folder(
    model: nn.Module,
    folder: ImageFolder,
    resolutions: list[int],
    pre: Preprocess,
    *,
    batch_size: int = 32,
    skip_bad: bool = False,
    progress: bool = True,
) -> tuple[Predictions, list[str]]:
    """Run ``model`` on every image at every resolution (one decode per image).

    Returns the predictions and the paths of images skipped as unreadable.
    """
    model.eval()
    ds = MultiResolutionDataset(folder, resolutions, pre, skip_bad=skip_bad)
    loader = DataLoader(ds, batch_size=batch_size, shuffle=False, num_workers=0, collate_fn=collate_multires)
    kept: list[np.ndarray] = []
    top1 = {r: [] for r in resolutions}
    conf = {r: [] for r in resolutions}
    with progress_bar(len(ds), "evaluating", enabled=progress) as advance:
        for batch in loader:
            if len(batch["index"]):
                kept.append(batch["index"])
                for r in resolutions:
                    prob = model(to_tensor(batch["crops"][r], pre)).softmax(dim=1)
                    c, p = prob.max(dim=1)
                    top1[r].append(p.numpy())
                    conf[r].append(c.numpy())
            advance(len(batch["index"]) + batch["n_bad"])
    idx = np.concatenate(kept) if kept else np.zeros(0, dtype=np.int64)
    skipped = sorted(set(map(str, folder.paths)) - {str(folder.paths[i]) for i in idx})
    if not len(idx):
        raise DataError(f"no readable image in {folder.root}")
    stack = lambda d: np.stack([np.concatenate(d[r]) for r in resolutions], axis=1)  # noqa: E731
    preds = Predictions(
        resolutions=list(resolutions),
        labels=np.asarray(folder.labels, dtype=np.int64)[idx],
        top1=stack(top1),
        confidence=stack(conf),
        paths=[str(folder.paths[i]) for i in idx],
    )
    return preds, skipped


@dataclass
class EvalReport:
    """Everything ``drnet-edge eval`` reports; ``to_json`` gives the documented JSON."""

    n: int
    backbone: str
    resolutions: list[int]
    policies: dict[str, PolicyResult]
    macs_m: dict[int, float]
    data: str = ""
    classes: str = ""
    skipped_bad: list[str] = field(default_factory=list)
    extra: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return {
            "n": self.n,
            "backbone": self.backbone,
            "resolutions": self.resolutions,
            "policies": {k: v.to_json() for k, v in self.policies.items()},
            "backbone_macs_m": {str(r): m for r, m in self.macs_m.items()},
            "macs_counter": "torch.utils.flop_counter.FlopCounterMode (MACs = FLOPs / 2)",
            "data": self.data,
            "classes": self.classes,
            "skipped_bad": {"count": len(self.skipped_bad), "files": self.skipped_bad},
            "hardware": {
                "machine": platform.machine(),
                "processor": platform.processor(),
                "torch_threads": torch.get_num_threads(),
            },
            **self.extra,
        }


def score_policies(
    preds: Predictions, policies: list[Policy], macs: dict[int, int], extra_macs: dict[str, int] | None = None
) -> dict[str, PolicyResult]:
    """Score each policy; ``extra_macs`` adds per-image overhead by policy name (e.g. a predictor)."""
    out = {}
    for pol in policies:
        if pol.needs_labels and not preds.labelled:
            continue  # oracle needs labels; an unlabelled folder simply has no such row
        out[pol.name] = score(pol, preds, macs, (extra_macs or {}).get(pol.name, 0))
    return out


def evaluate(
    data: str | Path | ImageFolder,
    *,
    backbone: str = "efficientnet_lite0",
    weights: str | Path | None = None,
    model: nn.Module | None = None,
    resolutions: list[int] | str | None = None,
    policies: list[str] | str = ("fixed", "oracle", "oracle-agree"),
    classes: ClassList | None = None,
    limit: int | None = None,
    batch_size: int = 32,
    skip_bad: bool = False,
    progress: bool = True,
) -> EvalReport:
    """Evaluate a backbone on a folder at each resolution and score the policies.

    Example::

        report = evaluate("images/", backbone="efficientnet_lite0", resolutions="224,160,128")
        print(report.policies["fixed-224"].top1)
    """
    cfg = get_backbone_cfg(backbone)
    res = parse_resolutions(resolutions) if resolutions is not None else list(cfg.resolutions)
    pols = expand_policies(policies.split(",") if isinstance(policies, str) else list(policies), res)
    if batch_size < 1:
        raise ConfigError("--batch-size must be at least 1")
    folder = data if isinstance(data, ImageFolder) else scan_folder(data, classes=classes, limit=limit)
    net = model if model is not None else create_backbone(backbone, weights=weights)
    num_classes = _num_classes(net)
    if folder.classes is not None and len(folder.classes) != num_classes:
        raise DataError(
            f"{folder.root}: {len(folder.classes)} classes ({folder.classes.source}) but the model has "
            f"{num_classes} outputs; pass --classes FILE listing the model's classes in output order"
        )
    preds, skipped = predict_folder(
        net, folder, res, cfg.preprocess, batch_size=batch_size, skip_bad=skip_bad, progress=progress
    )
    macs = {r: backbone_macs(backbone, r, num_classes) for r in res}
    return EvalReport(
        n=preds.n,
        backbone=backbone,
        resolutions=res,
        policies=score_policies(preds, pols, macs),
        macs_m={r: m / 1e6 for r, m in macs.items()},
        data=str(folder.root),
        classes=folder.note,
        skipped_bad=skipped,
    )


def _num_classes(model: nn.Module) -> int:
    for attr in ("num_classes",):
        if isinstance(getattr(model, attr, None), int):
            return int(getattr(model, attr))
    last = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if not last:
        raise ConfigError("cannot tell the model's number of classes (no Linear layer)")
    return last[-1].out_features
