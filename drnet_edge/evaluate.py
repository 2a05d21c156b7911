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
from .data import ClassList, ImageFolder, MultiResolutionDataset, collate_multires, imagenet_classes, scan_folder
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
    chosen_only: bool = False,
) -> tuple[Predictions, list[str]]:
    """Run ``model`` on every image at every resolution (one decode per image).

    ``model`` is a plain backbone or a :class:`DRNet` (resolution ``k`` then uses its BN ``k``, and
    the predictor's choice is recorded). With ``chosen_only`` (DRNet only) each image runs at its
    chosen resolution alone, as deployed; the other columns of ``top1`` hold -2.
    Returns the predictions and the paths of images skipped as unreadable.
    """
    model.eval()
    drnet = model if hasattr(model, "backbone_at") else None  # a DRNet or converted artifacts
    if chosen_only and (drnet is None or drnet.predictor is None):
        raise ConfigError("chosen-only evaluation needs a DRNet with a predictor")
    sizes = list(resolutions) + ([drnet.thumb_size] if drnet is not None and drnet.predictor is not None else [])
    ds = MultiResolutionDataset(folder, sizes, pre, skip_bad=skip_bad)
    loader = DataLoader(ds, batch_size=batch_size, shuffle=False, num_workers=0, collate_fn=collate_multires)
    kept: list[np.ndarray] = []
    top1: list[np.ndarray] = []
    conf: list[np.ndarray] = []
    choices: list[np.ndarray] = []
    with progress_bar(len(ds), "evaluating", enabled=progress) as advance:
        for batch in loader:
            n = len(batch["index"])
            if n:
                kept.append(batch["index"])
                t1 = np.full((n, len(resolutions)), -2, dtype=np.int64)
                cf = np.zeros((n, len(resolutions)), dtype=np.float32)
                choice = None
                if drnet is not None and drnet.predictor is not None:
                    choice = drnet.choose(to_tensor(batch["crops"][drnet.thumb_size], pre)).numpy()
                    choices.append(choice)
                for k, r in enumerate(resolutions):
                    rows = np.arange(n) if not chosen_only else np.nonzero(choice == k)[0]
                    if not len(rows):
                        continue
                    x = to_tensor(batch["crops"][r][rows], pre)
                    logits = drnet.backbone_at(x, k) if drnet is not None else model(x)
                    c, p = logits.softmax(dim=1).max(dim=1)
                    t1[rows, k], cf[rows, k] = p.numpy(), c.numpy()
                top1.append(t1)
                conf.append(cf)
            advance(n + batch["n_bad"])
    idx = np.concatenate(kept) if kept else np.zeros(0, dtype=np.int64)
    if not len(idx):
        raise DataError(f"no readable image in {folder.root}")
    kept_paths = {str(folder.paths[i]) for i in idx}
    skipped = [str(p) for p in folder.paths if str(p) not in kept_paths]
    preds = Predictions(
        resolutions=list(resolutions),
        labels=np.asarray(folder.labels, dtype=np.int64)[idx],
        top1=np.concatenate(top1),
        confidence=np.concatenate(conf),
        paths=[str(folder.paths[i]) for i in idx],
        predictor_choice=np.concatenate(choices) if choices else None,
    )
    return preds, skipped


def paired_top1(labels: np.ndarray, ref: np.ndarray, new: np.ndarray) -> dict[str, float]:
    """Two models' predicted classes on the same images: both top-1s, the change (new minus ref), its
    paired standard error, and how often they predict the same class."""
    d = (new == labels).astype(float) - (ref == labels).astype(float)
    return {
        "top1_ref": float((ref == labels).mean()),
        "top1_new": float((new == labels).mean()),
        "delta": float(d.mean()),
        "delta_se": float(d.std(ddof=1) / np.sqrt(len(d))) if len(d) > 1 else float("nan"),
        "agreement": float((ref == new).mean()),
    }


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
    backbone: str | None = None,
    weights: str | Path | None = None,
    model: str | Path | None = None,
    baseline: str | Path | None = None,
    runtime: str | None = None,
    artifacts: str | Path | None = None,
    threads: int | None = None,
    resolutions: list[int] | str | None = None,
    policies: list[str] | str | None = None,
    classes: ClassList | None = None,
    limit: int | None = None,
    subset: str | None = None,
    batch_size: int = 32,
    skip_bad: bool = False,
    progress: bool = True,
) -> EvalReport:
    """Evaluate a DRNet checkpoint (``model``: a path or bundled name) or a plain ``backbone`` on a
    folder at each resolution, and score the policies.

    With neither ``model`` nor ``backbone``, the bundled default model is used. ``baseline`` (a
    checkpoint) adds a ``baseline`` row: that model at its own resolution.

    Example::

        report = evaluate("images/", model="lite0-imagenet")
        print(report.policies["drnet"].top1, report.policies["drnet"].macs_m)
    """
    from .checkpoint import DEFAULT_MODEL, list_models, load_model

    if batch_size < 1:
        raise ConfigError("--batch-size must be at least 1")
    if runtime is not None or artifacts is not None:
        from .runtime import ArtifactDRNet

        if runtime is None or artifacts is None:
            raise ConfigError("--runtime and --artifacts go together: --runtime tflite|executorch|onnx --artifacts DIR")
        if model is not None or backbone is not None or weights is not None:
            raise ConfigError("--artifacts already fix the model; drop --model/--backbone/--weights")
        art = ArtifactDRNet(artifacts, runtime, threads=threads)
        net = art  # type: ignore[assignment]
        name, res, pre, pred_macs = art.backbone_name, list(art.resolutions), art.preprocess, art.predictor_macs()
        if classes is None and art.classes.ids != imagenet_classes().ids:
            classes = art.classes
        default_pols = "fixed" + (",drnet,random" if art.predictor is not None else "")
        macs_of = art.backbone_macs
        num_classes = len(art.classes)
    else:
        if model is None and backbone is None:
            if DEFAULT_MODEL in list_models():
                model = DEFAULT_MODEL
            else:
                backbone = "efficientnet_lite0"
        if model is not None:
            if weights is not None:
                raise ConfigError("--weights applies to --backbone; a --model checkpoint carries its own weights")
            net, ckpt_classes, _ = load_model(
                model, backbone=backbone, resolutions=parse_resolutions(resolutions) if resolutions else None
            )
            name, res, pre = net.backbone_name, list(net.resolutions), net.preprocess
            if classes is None and ckpt_classes.ids != imagenet_classes().ids:
                classes = ckpt_classes
            default_pols = "fixed,oracle,oracle-agree" + (",drnet,random" if net.predictor is not None else "")
            pred_macs = net.predictor_macs()
            num_classes = _num_classes(net.backbone)
        else:
            assert backbone is not None
            cfg = get_backbone_cfg(backbone)
            res = parse_resolutions(resolutions) if resolutions is not None else list(cfg.resolutions)
            name, pre, pred_macs = backbone, cfg.preprocess, 0
            net = create_backbone(backbone, weights=weights)  # type: ignore[assignment]
            default_pols = "fixed,oracle,oracle-agree"
            num_classes = _num_classes(net)

        def macs_of(r: int) -> int:
            return backbone_macs(name, r, num_classes)

    if policies is None:
        policies = default_pols + (",baseline" if baseline else "")
    names = [p.strip() for p in (policies.split(",") if isinstance(policies, str) else list(policies)) if p.strip()]
    want_baseline = "baseline" in names
    if want_baseline and baseline is None:
        raise ConfigError("policy 'baseline' needs --baseline CKPT (a plain model checkpoint)")
    pols = expand_policies([p for p in names if p != "baseline"], res) if set(names) - {"baseline"} else []
    if any(p.needs_predictor for p in pols) and getattr(net, "predictor", None) is None:
        raise ConfigError("policies drnet and random need a DRNet model: pass --model CKPT or a bundled model name")
    folder = data if isinstance(data, ImageFolder) else scan_folder(data, classes=classes, limit=limit, subset=subset)
    if folder.classes is not None and len(folder.classes) != num_classes:
        raise DataError(
            f"{folder.root}: {len(folder.classes)} classes ({folder.classes.source}) but the model has "
            f"{num_classes} outputs; pass --classes FILE listing the model's classes in output order"
        )
    chosen_only = bool(pols) and all(p.name == "drnet" for p in pols)
    preds, skipped = predict_folder(
        net, folder, res, pre, batch_size=batch_size, skip_bad=skip_bad, progress=progress, chosen_only=chosen_only
    )
    macs = {r: macs_of(r) for r in res}
    results = score_policies(preds, pols, macs, {"drnet": pred_macs, "random": pred_macs})
    extra: dict = {"predictor_macs_m": pred_macs / 1e6} if pred_macs else {}
    if model is not None:
        extra["model"] = str(model)
    if runtime is not None:
        extra.update(runtime=runtime, artifacts=str(artifacts), precision=net.precision)  # type: ignore[union-attr]
    if want_baseline:
        results["baseline"] = _baseline_result(baseline, folder, batch_size, skip_bad, progress)  # type: ignore[arg-type]
        extra["baseline_model"] = str(baseline)
    return EvalReport(
        n=preds.n,
        backbone=name,
        resolutions=res,
        policies=results,
        macs_m={r: m / 1e6 for r, m in macs.items()},
        data=str(folder.root),
        classes=folder.note,
        skipped_bad=skipped,
        extra=extra,
    )


def _baseline_result(
    ckpt: str | Path, folder: ImageFolder, batch_size: int, skip_bad: bool, progress: bool
) -> PolicyResult:
    """A plain model at its own (largest) resolution, on the same images."""
    from .checkpoint import load_model

    net, _, _ = load_model(ckpt)
    r = net.resolutions[0]
    preds, _ = predict_folder(
        net, folder, [r], net.preprocess, batch_size=batch_size, skip_bad=skip_bad, progress=progress
    )
    num_classes = _num_classes(net.backbone)
    res = score(expand_policies([f"fixed-{r}"], [r])[0], preds, {r: backbone_macs(net.backbone_name, r, num_classes)})
    res.description = f"baseline model {ckpt} at {r}px"
    return res


def _num_classes(model: nn.Module) -> int:
    if isinstance(getattr(model, "num_classes", None), int):  # timm models say it
        return int(model.num_classes)
    last = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if not last:
        raise ConfigError("cannot tell the model's number of classes (no Linear layer)")
    return last[-1].out_features
