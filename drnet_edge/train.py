"""Training: ``predictor`` mode (frozen backbone), ``joint`` mode (the paper's recipe) and
``plain`` mode (fine-tune at the largest resolution only: the fixed-resolution baseline).

* predictor mode runs the frozen backbone once on ``views`` augmented views of every image
  (a resumable on-disk cache of per-resolution losses and thumbnails), then trains the predictor
  for many cheap epochs with Gumbel-softmax and the MACs constraint. Works on a laptop CPU.
* joint mode: multi-resolution training of the resolution-aware backbone, then joint fine-tuning
  with the predictor (predictor at 0.1x the learning rate); the batch is split by chosen resolution.
* Every mode: one checkpoint per epoch written atomically, ``resume`` continues exactly, per-epoch
  metrics in ``<out>.metrics.jsonl``, deterministic for a seed, runs under ``torchrun`` (DDP).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Dataset
from torch.utils.data.distributed import DistributedSampler

from ._io import atomic_write, atomic_write_text
from .backbones import create_backbone, get_backbone_cfg, replace_head
from .checkpoint import build_model, make_checkpoint, read_checkpoint, resolve_model, save_checkpoint, sha256_file
from .data import ClassList, ImageFolder, imagenet_classes, read_class_file, scan_folder
from .drnet import (
    DRNet,
    PredictorCfg,
    ResolutionPredictor,
    gumbel_choice,
    macs_penalty,
    make_resolution_aware,
    set_resolution,
)
from .errors import CheckpointError, ConfigError
from .evaluate import parse_resolutions
from .macs import backbone_macs
from .preprocess import Preprocess, center_crop_square, load_image, resize_square, to_tensor
from .progress import progress_bar

MODES = ("predictor", "joint", "plain")


@dataclass
class TrainConfig:
    """Everything ``drnet-edge train`` takes (stored in the checkpoint for ``--resume`` checks)."""

    data: str
    out: str
    backbone: str = "efficientnet_lite0"
    resolutions: list[int] = field(default_factory=lambda: [224, 192, 160, 128])
    mode: str = "predictor"
    weights: str | None = None
    classes: str | None = None
    subset: str | None = None
    extra_data: list[str] = field(default_factory=list)  # more folders, always used whole (not split)
    cache_dir: str | None = None  # predictor mode: outcome cache (default <out>.cache)
    init_from: str | None = None  # start from this DRNet checkpoint's backbone and predictor
    epochs: int = 10
    pretrain_epochs: int | None = None  # joint: multi-resolution epochs before joint ones (default half)
    batch_size: int = 32
    lr: float | None = None  # default: 1e-3 (predictor, AdamW), 0.01 (joint/plain, SGD)
    weight_decay: float = 1e-5
    target_ratio: float | None = 0.6
    target_macs: float | None = None  # millions; overrides target_ratio
    eta: float = 0.2
    tau: float = 1.0
    thumb_size: int = 64
    views: int = 4  # predictor mode: augmented views per image in the outcome cache
    resolution_bn: bool = True
    joint_forward: str = "auto"  # joint phase: chosen (split by resolution), all (fixed shapes), auto = all on CUDA
    augment: bool = True
    workers: int = 2
    seed: int = 0
    limit: int | None = None

    def validate(self) -> None:
        if self.mode not in MODES:
            raise ConfigError(f"--mode must be one of {', '.join(MODES)}, got {self.mode!r}")
        if self.epochs < 1 or self.batch_size < 1 or self.views < 1:
            raise ConfigError("--epochs, --batch-size and --views must be at least 1")
        if self.target_ratio is not None and not 0 < self.target_ratio <= 1:
            raise ConfigError(f"--target-ratio must be in (0, 1], got {self.target_ratio}")
        if self.mode != "plain" and len(self.resolutions) < 2:
            raise ConfigError("DRNet needs at least two --resolutions")
        if self.joint_forward not in ("auto", "chosen", "all"):
            raise ConfigError(f"--joint-forward must be auto, chosen or all, got {self.joint_forward!r}")
        if self.pretrain_epochs is not None and not 0 <= self.pretrain_epochs <= self.epochs:
            raise ConfigError("--pretrain-epochs must be between 0 and --epochs")

    def default_lr(self) -> float:
        return self.lr if self.lr is not None else (1e-3 if self.mode == "predictor" else 0.01)


# ---------------------------------------------------------------------------------------------
# Data: augmented views at every resolution plus the predictor's thumbnail
# ---------------------------------------------------------------------------------------------


def random_box(
    h: int, w: int, g: torch.Generator, scale: tuple[float, float] = (0.25, 1.0)
) -> tuple[int, int, int, int]:
    """A random-resized-crop box (top, left, height, width), drawn from generator ``g``."""
    area = h * w
    for _ in range(10):
        target = area * float(torch.empty(1).uniform_(*scale, generator=g))
        log_r = float(torch.empty(1).uniform_(math.log(3 / 4), math.log(4 / 3), generator=g))
        ratio = math.exp(log_r)
        cw, ch = int(round(math.sqrt(target * ratio))), int(round(math.sqrt(target / ratio)))
        if 0 < cw <= w and 0 < ch <= h:
            top = int(torch.randint(0, h - ch + 1, (1,), generator=g))
            left = int(torch.randint(0, w - cw + 1, (1,), generator=g))
            return top, left, ch, cw
    side = min(h, w)
    return (h - side) // 2, (w - side) // 2, side, side


def view_crops(img: np.ndarray, sizes: list[int], pre: Preprocess, g: torch.Generator | None) -> dict[int, np.ndarray]:
    """One view: the centre crop (``g`` is None) or a random resized crop + flip, at every size."""
    if g is None:
        region = center_crop_square(img, pre.crop_pct)
    else:
        top, left, ch, cw = random_box(*img.shape[:2], g)
        region = img[top : top + ch, left : left + cw]
        if torch.rand(1, generator=g).item() < 0.5:
            region = region[:, ::-1]
    region = np.ascontiguousarray(region)
    return {s: resize_square(region, s, pre.interpolation) for s in sizes}


class ViewDataset(Dataset):
    """Image ``i`` in epoch ``e`` gets augmentation drawn from a generator seeded by (seed, e, i):
    identical across worker counts and after ``--resume``."""

    def __init__(self, folder: ImageFolder, sizes: list[int], pre: Preprocess, seed: int, augment: bool) -> None:
        self.folder, self.sizes, self.pre, self.seed, self.augment = (
            folder,
            sorted(set(sizes), reverse=True),
            pre,
            seed,
            augment,
        )
        self.epoch = 0

    def __len__(self) -> int:
        return len(self.folder)

    def item(self, i: int, view: int | None) -> dict[str, Any]:
        """View ``None`` is the centre crop; view ``v`` a random crop seeded by (seed, v, i)."""
        g = (
            None
            if view is None or not self.augment
            else torch.Generator().manual_seed((self.seed * 1_000_003 + view * 7919 + i) & 0x7FFFFFFF)
        )
        crops = view_crops(load_image(self.folder.paths[i]), self.sizes, self.pre, g)
        return {"index": i, "label": self.folder.labels[i], "crops": crops}

    def __getitem__(self, i: int) -> dict[str, Any]:
        return self.item(i, 100_000 + self.epoch)


def collate_views(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "index": torch.tensor([it["index"] for it in items]),
        "label": torch.tensor([it["label"] for it in items]),
        "crops": {s: np.stack([it["crops"][s] for it in items]) for s in items[0]["crops"]},
    }


# ---------------------------------------------------------------------------------------------
# Distributed helpers (torchrun sets RANK / WORLD_SIZE / LOCAL_RANK)
# ---------------------------------------------------------------------------------------------


@dataclass
class Dist:
    rank: int = 0
    world: int = 1
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    @property
    def main(self) -> bool:
        return self.rank == 0

    def barrier(self) -> None:
        if self.world > 1:
            dist.barrier()

    def mean(self, value: float) -> float:
        if self.world == 1:
            return value
        t = torch.tensor([value], dtype=torch.float64, device=self.device)
        dist.all_reduce(t)
        return float(t.item()) / self.world


def init_distributed() -> Dist:
    """Join the process group when launched by torchrun (gloo on CPU, nccl on GPU)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    cuda = torch.cuda.is_available()
    local = int(os.environ.get("LOCAL_RANK", "0"))
    device = torch.device(f"cuda:{local}" if cuda else "cpu")
    if cuda:
        torch.cuda.set_device(device)
    if world > 1 and not dist.is_initialized():
        dist.init_process_group(backend="nccl" if cuda else "gloo")
    return Dist(rank=dist.get_rank() if world > 1 else 0, world=world, device=device)


# ---------------------------------------------------------------------------------------------
# Model set-up
# ---------------------------------------------------------------------------------------------


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
        present = sorted({p.relative_to(Path(cfg.data)).parts[0] for p in folder.paths})
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
            "predictor mode keeps the backbone frozen, so it needs a backbone already trained on these classes: "
            "ImageNet wnid folders for the pretrained weights, --init-from a DRNet trained on them, or --weights PATH "
            "with a matching head"
        )
    return folder, folder.classes, imagenet


def _with_classes(cfg: TrainConfig, classes: ClassList) -> TrainConfig:
    """A copy of ``cfg`` whose class list is fixed (written next to the checkpoint)."""
    import dataclasses

    path = Path(str(cfg.out) + ".classes.txt")
    atomic_write_text(path, "".join(f"{i} {n}\n" for i, n in zip(classes.ids, classes.names, strict=True)))
    return dataclasses.replace(cfg, classes=str(path))


def build_for_training(cfg: TrainConfig, classes: ClassList, imagenet_head: bool, frozen: DRNet | None = None) -> DRNet:
    if frozen is not None:  # predictor mode on a trained DRNet: keep its backbone (and its BN layout)
        if frozen.predictor is None or frozen.thumb_size != cfg.thumb_size:
            frozen.predictor = ResolutionPredictor(PredictorCfg(len(cfg.resolutions), thumb_size=cfg.thumb_size))
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


# ---------------------------------------------------------------------------------------------
# Predictor mode: outcome cache + cheap epochs
# ---------------------------------------------------------------------------------------------


def _cache_key(cfg: TrainConfig, model: DRNet) -> str:
    parts = {
        "backbone": cfg.backbone,
        "weights": str(cfg.weights),
        "resolutions": model.resolutions,
        "thumb": cfg.thumb_size,
        "pre": model.preprocess.to_dict(),
        "seed": cfg.seed,
        "augment": cfg.augment,
    }
    if cfg.init_from:  # a trained DRNet's backbone: its file's content decides the outcomes
        parts["init_from"] = sha256_file(resolve_model(cfg.init_from))
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]


@torch.no_grad()
def outcome_cache(
    cfg: TrainConfig, model: DRNet, folder: ImageFolder, ds: ViewDataset, env: Dist, progress: bool
) -> dict[str, torch.Tensor]:
    """Per image and view: the frozen backbone's loss and correctness at every resolution, and the
    thumbnail. Stored in ``<out>.cache/`` by image path; resumable; shared by runs (and CV folds)
    with the same backbone, resolutions, preprocessing and seed."""
    cache_dir = Path(cfg.cache_dir or str(cfg.out) + ".cache")
    cache_dir.mkdir(parents=True, exist_ok=True)
    path = cache_dir / f"outcomes-{_cache_key(cfg, model)}.pt"
    store: dict[str, dict[str, torch.Tensor]] = {}
    if path.is_file():
        store = torch.load(path, map_location="cpu", weights_only=True)
    keys = [str(p.resolve()) for p in folder.paths]
    todo = [i for i, k in enumerate(keys) if k not in store or store[k]["ce"].shape[0] < cfg.views]
    mine = todo[env.rank :: env.world]
    model.to(env.device).eval()
    thumb = model.thumb_size
    views = list(range(cfg.views))
    new: dict[str, dict[str, torch.Tensor]] = {}
    with progress_bar(
        len(mine),
        f"backbone outcomes ({cfg.views} views x {len(model.resolutions)} resolutions)",
        enabled=progress and env.main,
    ) as advance:
        for start in range(0, len(mine), 16):
            chunk = mine[start : start + 16]
            items = [(i, v, ds.item(i, v or None)) for i in chunk for v in views]  # view 0 = centre crop
            crops = {s: np.stack([it[2]["crops"][s] for it in items]) for s in ds.sizes}
            labels = torch.tensor([it[2]["label"] for it in items])
            logits = [
                model.backbone_at(to_tensor(crops[r], model.preprocess).to(env.device), k).float().cpu()
                for k, r in enumerate(model.resolutions)
            ]
            top1 = torch.stack([lg.argmax(1) for lg in logits], 1)
            target = torch.where(labels >= 0, labels, top1[:, 0])
            ce = torch.stack([F.cross_entropy(lg, target, reduction="none") for lg in logits], 1)
            for j, i in enumerate(chunk):
                sl = slice(j * len(views), (j + 1) * len(views))
                new[keys[i]] = {
                    "ce": ce[sl].half(),
                    "correct": top1[sl] == labels[sl, None],
                    "agree": top1[sl] == top1[sl, :1],
                    "thumb": torch.from_numpy(crops[thumb][sl]),
                }
            advance(len(chunk))
            if len(new) >= 256 and env.world == 1:
                store.update(new)
                new = {}
                atomic_write(path, lambda p: torch.save(store, p))
    if env.world > 1:
        part = cache_dir / f"part-{env.rank}.pt"
        atomic_write(part, lambda p: torch.save(new, p))
        env.barrier()
        if env.main:
            for r in range(env.world):
                store.update(torch.load(cache_dir / f"part-{r}.pt", map_location="cpu", weights_only=True))
            atomic_write(path, lambda p: torch.save(store, p))
        env.barrier()
        store = torch.load(path, map_location="cpu", weights_only=True)
    elif new or not path.is_file():
        store.update(new)
        atomic_write(path, lambda p: torch.save(store, p))
    return {k: torch.stack([store[p][k][: cfg.views] for p in keys]) for k in ("ce", "correct", "agree", "thumb")}


# ---------------------------------------------------------------------------------------------
# The loop
# ---------------------------------------------------------------------------------------------


class Trainer:
    """Holds the state of one training run; ``run()`` trains from scratch or from ``--resume``."""

    def __init__(
        self, cfg: TrainConfig, *, resume: bool = False, progress: bool = True, log: Callable[[str], None] = print
    ) -> None:
        cfg.resolutions = parse_resolutions(cfg.resolutions)
        cfg.validate()
        self.cfg, self.progress = cfg, progress
        self.env = init_distributed()
        self.log = log if self.env.main else (lambda msg: None)
        torch.manual_seed(cfg.seed)
        frozen = _frozen_drnet(cfg)
        self.folder, self.classes, imagenet_head = _classes_for(cfg, frozen[1] if frozen else None)
        self.model = build_for_training(cfg, self.classes, imagenet_head, frozen[0] if frozen else None)
        self.macs, self.pred_macs = macs_table(self.model, len(self.classes))
        self.target = target_macs_m(cfg, self.macs)
        self.start_epoch = 0
        self.out = Path(cfg.out)
        self.metrics_path = Path(str(cfg.out) + ".metrics.jsonl")
        if cfg.init_from and frozen is None:
            self._init_from(cfg.init_from)
        self.model.to(self.env.device)
        self.step_module = TrainStep(self.model, self.macs, self.pred_macs, self.target, cfg.eta, cfg.tau).to(
            self.env.device
        )
        self.optimizer = self._optimizer(phase="joint" if cfg.mode == "predictor" else "multi")
        if resume:
            self._resume()
        elif self.env.main and self.metrics_path.exists():
            self.metrics_path.unlink()

    # -- optimisers ---------------------------------------------------------------------------
    def _optimizer(self, phase: str) -> torch.optim.Optimizer:
        cfg, lr = self.cfg, self.cfg.default_lr()
        if cfg.mode == "predictor":
            assert self.model.predictor is not None
            return torch.optim.AdamW(self.model.predictor.parameters(), lr=lr, weight_decay=cfg.weight_decay)
        groups: list[dict[str, Any]] = [{"params": list(self.model.backbone.parameters()), "lr": lr}]
        if phase == "joint" and self.model.predictor is not None:
            groups.append({"params": list(self.model.predictor.parameters()), "lr": 0.1 * lr})
        return torch.optim.SGD(groups, lr=lr, momentum=0.9, nesterov=True, weight_decay=cfg.weight_decay)

    def phase(self, epoch: int) -> str:
        if self.cfg.mode != "joint":
            return self.cfg.mode
        pre = self.cfg.pretrain_epochs if self.cfg.pretrain_epochs is not None else self.cfg.epochs // 2
        return "multi" if epoch < pre else "joint"

    def _set_lr(self, epoch: int) -> None:
        scale = 0.5 * (1 + math.cos(math.pi * epoch / self.cfg.epochs))
        for g in self.optimizer.param_groups:
            g.setdefault("base_lr", g["lr"])
            g["lr"] = g["base_lr"] * scale

    # -- checkpoints --------------------------------------------------------------------------
    def _save(self, epoch: int, metrics: dict[str, Any]) -> None:
        if not self.env.main:
            return
        state = {
            "epoch": epoch,
            "phase": self.phase(epoch),
            "optimizer": self.optimizer.state_dict(),
            "rng": torch.get_rng_state(),
            "config": json.dumps(asdict(self.cfg), sort_keys=True),
        }
        include_backbone = self.cfg.mode != "predictor" or self.cfg.weights is not None or bool(self.cfg.init_from)
        meta = {"mode": self.cfg.mode, "epochs_done": epoch + 1, "target_macs_m": self.target, "metrics": metrics}
        model = self.model
        ckpt = make_checkpoint(model, self.classes, include_backbone=include_backbone, train_state=state, meta=meta)
        save_checkpoint(self.out, ckpt)
        with open(self.metrics_path, "a", encoding="utf-8") as f:
            f.write(json.dumps({"epoch": epoch + 1, **metrics}) + "\n")

    def _init_from(self, path: str) -> None:
        ckpt = _init_checkpoint(self.cfg, self.model.resolutions)
        if tuple(ckpt["classes"]["ids"]) != self.classes.ids:
            raise CheckpointError(f"--init-from {path}: its classes differ from the training folder's")
        model, _ = build_model(ckpt)
        try:
            self.model.backbone.load_state_dict(model.backbone.state_dict())
            if self.model.predictor is not None and model.predictor is not None:
                self.model.predictor.load_state_dict(model.predictor.state_dict())
        except RuntimeError as exc:
            raise CheckpointError(
                f"--init-from {path}: tensors do not fit (resolution-aware BN on one side only?): {exc}"
            ) from exc
        self.log(f"initialised from {path}")

    def _resume(self) -> None:
        ckpt = read_checkpoint(self.out)
        state = ckpt.get("train_state")
        if not state:
            raise CheckpointError(f"{self.out} holds no training state (a shipped model?); cannot --resume from it")
        saved = json.loads(state["config"])
        mine = asdict(self.cfg)
        diff = [
            k
            for k in (
                "backbone",
                "resolutions",
                "mode",
                "data",
                "seed",
                "thumb_size",
                "subset",
                "resolution_bn",
                "epochs",
            )
            if saved.get(k) != mine.get(k)
        ]
        if diff:
            raise CheckpointError(
                f"{self.out} was trained with different {', '.join(diff)}; --resume needs the same settings (or a new --out)"
            )
        model, _ = build_model(ckpt)
        self.model.backbone.load_state_dict(model.backbone.state_dict())
        if self.model.predictor is not None and model.predictor is not None:
            self.model.predictor.load_state_dict(model.predictor.state_dict())
        self.start_epoch = int(state["epoch"]) + 1
        if self.start_epoch < self.cfg.epochs:
            self.optimizer = self._optimizer(self.phase(self.start_epoch))
            if self.phase(self.start_epoch) == state["phase"]:
                self.optimizer.load_state_dict(state["optimizer"])
        torch.set_rng_state(state["rng"])
        if self.env.main and self.metrics_path.exists():
            keep = [
                ln
                for ln in self.metrics_path.read_text().splitlines()
                if ln and json.loads(ln)["epoch"] <= self.start_epoch
            ]
            atomic_write_text(self.metrics_path, "".join(k + "\n" for k in keep))
        self.log(f"resuming {self.out} at epoch {self.start_epoch + 1}/{self.cfg.epochs}")

    # -- run ----------------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        cfg = self.cfg
        ds = ViewDataset(
            self.folder,
            self.model.resolutions + ([self.model.thumb_size] if self.model.thumb_size else []),
            self.model.preprocess,
            cfg.seed,
            cfg.augment,
        )
        cache = (
            outcome_cache(cfg, self.model, self.folder, ds, self.env, self.progress)
            if cfg.mode == "predictor"
            else None
        )
        metrics: dict[str, Any] = {}
        for epoch in range(self.start_epoch, cfg.epochs):
            phase = self.phase(epoch)
            if epoch > 0 and phase == "joint" and self.phase(epoch - 1) == "multi":
                self.optimizer = self._optimizer("joint")
            self._set_lr(epoch)
            if cache is not None:
                metrics = self._predictor_epoch(epoch, cache)
            else:
                metrics = self._backbone_epoch(epoch, ds, phase)
            metrics["phase"] = phase
            self._save(epoch, metrics)
            self.log(
                f"epoch {epoch + 1}/{cfg.epochs} [{phase}] "
                + " ".join(f"{k}={v:.4g}" for k, v in metrics.items() if isinstance(v, float))
            )
        return metrics

    def _predictor_step_loss(self, logits: torch.Tensor, ce: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``sum_k y_k CE_k`` (backbone losses from the cache) plus the MACs penalty; and E[MACs]."""
        y = gumbel_choice(logits, self.cfg.tau)
        penalty, expected = macs_penalty(
            y, self.macs.to(logits.device), self.pred_macs / 1e6, self.target, self.cfg.eta
        )
        return (y * ce).sum(1).mean() + penalty, expected

    def _predictor_epoch(self, epoch: int, cache: dict[str, torch.Tensor]) -> dict[str, Any]:
        predictor = self.model.predictor
        assert predictor is not None
        net: nn.Module = _ddp(predictor, self.env)
        n, views = cache["ce"].shape[:2]
        g = torch.Generator().manual_seed(self.cfg.seed * 1000 + epoch)
        order = torch.randperm(n, generator=g)[self.env.rank :: self.env.world]
        view = torch.randint(0, views, (n,), generator=g)
        net.train()
        totals = {"loss": 0.0, "macs_m": 0.0}
        steps = 0
        with progress_bar(
            len(order), f"epoch {epoch + 1} (predictor)", enabled=self.progress and self.env.main
        ) as advance:
            for start in range(0, len(order), self.cfg.batch_size):
                idx = order[start : start + self.cfg.batch_size]
                thumbs = to_tensor(cache["thumb"][idx, view[idx]].numpy(), self.model.preprocess).to(self.env.device)
                ce = cache["ce"][idx, view[idx]].float().to(self.env.device)
                loss, expected = self._predictor_step_loss(net(thumbs), ce)
                expected = expected.detach()
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                self.optimizer.step()
                totals["loss"] += loss.item()
                totals["macs_m"] += expected.item()
                steps += 1
                advance(len(idx))
        out = {k: self.env.mean(v / max(steps, 1)) for k, v in totals.items()}
        out.update(self._predictor_validation(cache))
        return out

    @torch.no_grad()
    def _predictor_validation(self, cache: dict[str, torch.Tensor]) -> dict[str, float]:
        """Argmax choices on the centre view (view 0) of the training images."""
        predictor = self.model.predictor
        assert predictor is not None
        predictor.eval()
        thumbs = to_tensor(cache["thumb"][:, 0].numpy(), self.model.preprocess).to(self.env.device)
        choice = torch.cat([predictor(thumbs[i : i + 256]).argmax(1).cpu() for i in range(0, len(thumbs), 256)])
        rows = torch.arange(len(choice))
        return {
            "train_top1_drnet": float(cache["correct"][rows, 0, choice].float().mean()),
            "train_macs_ratio": float((self.macs[choice].mean() + self.pred_macs / 1e6) / self.macs.max()),
            "train_top1_largest": float(cache["correct"][:, 0, 0].float().mean()),
        }

    def _backbone_epoch(self, epoch: int, ds: ViewDataset, phase: str) -> dict[str, Any]:
        cfg, env, model = self.cfg, self.env, self.model
        ds.epoch = epoch
        sampler = (
            DistributedSampler(ds, num_replicas=env.world, rank=env.rank, shuffle=True, seed=cfg.seed)
            if env.world > 1
            else None
        )
        if sampler is not None:
            sampler.set_epoch(epoch)
        loader = DataLoader(
            ds,
            batch_size=cfg.batch_size,
            shuffle=sampler is None,
            sampler=sampler,
            generator=torch.Generator().manual_seed(cfg.seed * 1000 + epoch),
            num_workers=cfg.workers,
            # Workers start from a small server process, not by forking this one: after an epoch of
            # multi-resolution training on the CPU the trainer holds ~14 GB of allocator pages, and a
            # forked worker's copy-on-write share of them ran a 24 GB machine out of memory.
            multiprocessing_context="forkserver" if cfg.workers > 0 else None,
            collate_fn=collate_views,
            drop_last=len(ds) > cfg.batch_size * env.world,
        )
        step = _ddp(self.step_module, env, find_unused=True)
        model.train()
        totals = {"loss": 0.0, "top1": 0.0, "macs_m": 0.0}
        steps = 0
        with progress_bar(len(loader), f"epoch {epoch + 1} ({phase})", enabled=self.progress and env.main) as advance:
            for batch in loader:
                labels = batch["label"].to(env.device)
                xs = [
                    to_tensor(batch["crops"][r], model.preprocess).to(env.device, non_blocking=True)
                    for r in model.resolutions
                ]
                thumb = (
                    to_tensor(batch["crops"][model.thumb_size], model.preprocess).to(env.device)
                    if phase == "joint"
                    else xs[0]
                )
                loss, top1, macs_m = step(phase, xs, thumb, labels)
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                self.optimizer.step()
                totals["loss"] += loss.item()
                totals["top1"] += float(top1)
                totals["macs_m"] += float(macs_m)
                steps += 1
                advance(1)
        return {k: env.mean(v / max(steps, 1)) for k, v in totals.items()}


class TrainStep(nn.Module):
    """One training step's forward as a single module call (so DDP sees one forward per backward).

    ``multi``/``plain``: every resolution, each with its own BN, losses averaged.
    ``joint``: Gumbel choice, then one of two forwards (``joint_forward``):

    * ``chosen``: the backbone runs each image at its chosen resolution only (batch split by
      resolution); the predictor gets the exact straight-through signal ``dL/dy_k = CE_k`` from every
      resolution's loss computed without gradient. Cheapest on a CPU.
    * ``all``: every image at every resolution, ``logits = sum_k y_k * logits_k`` (the paper's
      public implementation). The hard one-hot makes the forward value and the backbone gradients
      those of the chosen resolution only, and each BN still sees only its own resolution, but the
      tensor shapes stay fixed from step to step: on a GPU the split's changing group sizes make
      every step meet new shapes (observed: joint epochs 5-10x slower than multi-resolution ones).
    """

    def __init__(
        self,
        model: DRNet,
        macs_m: torch.Tensor,
        pred_macs: int,
        target_m: float,
        eta: float,
        tau: float,
        joint_forward: str = "chosen",
    ) -> None:
        super().__init__()
        if joint_forward not in ("chosen", "all"):
            raise ConfigError(f"--joint-forward must be auto, chosen or all, got {joint_forward!r}")
        self.model = model
        self.register_buffer("macs_m", macs_m.clone(), persistent=False)
        self.pred_macs_m, self.target_m, self.eta, self.tau = pred_macs / 1e6, target_m, eta, tau
        self.joint_forward = joint_forward

    def forward(
        self, phase: str, xs: list[torch.Tensor], thumb: torch.Tensor, labels: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        backbone = self.model.backbone
        if phase in ("multi", "plain"):
            losses, top1 = [], torch.zeros(())
            for k, x in enumerate(xs):
                set_resolution(backbone, k)
                logits = backbone(x)
                losses.append(F.cross_entropy(logits, labels, label_smoothing=0.1))
                top1 = (logits.argmax(1) == labels).float().mean()  # at the smallest (last) resolution
            return torch.stack(losses).mean(), top1, self.macs_m.mean()
        assert self.model.predictor is not None
        y = gumbel_choice(self.model.predictor(thumb), self.tau)
        choice = y.argmax(1)
        macs_loss, expected = macs_penalty(y, self.macs_m, self.pred_macs_m, self.target_m, self.eta)
        if self.joint_forward == "all":
            out = sum(y[:, k : k + 1] * self.model.backbone_at(x, k) for k, x in enumerate(xs))
            loss = F.cross_entropy(out, labels, label_smoothing=0.1) + macs_loss
            return loss, (out.argmax(1) == labels).float().mean(), expected.detach()
        with torch.no_grad():
            ce_all = torch.stack(
                [F.cross_entropy(self.model.backbone_at(x, k), labels, reduction="none") for k, x in enumerate(xs)], 1
            )
        out: torch.Tensor | None = None
        for k in choice.unique().tolist():
            idx = (choice == k).nonzero(as_tuple=True)[0]
            lg = self.model.backbone_at(xs[k][idx], k)
            out = (lg.new_zeros(len(choice), lg.shape[1]) if out is None else out).index_copy(0, idx, lg)
        assert out is not None
        scale = y.gather(1, choice[:, None])  # 1.0 in the forward pass; carries the soft gradient
        loss_ce = F.cross_entropy(out * scale, labels, label_smoothing=0.1)
        st = (y * ce_all).sum(1).mean()
        loss = loss_ce + (st - st.detach()) + macs_loss
        return loss, (out.argmax(1) == labels).float().mean(), expected.detach()


def _ddp(module: nn.Module, env: Dist, find_unused: bool = False) -> nn.Module:
    """``module`` itself on one process; a cached DistributedDataParallel wrapper under torchrun."""
    if env.world == 1:
        return module
    from torch.nn.parallel import DistributedDataParallel

    if getattr(module, "_drnet_ddp", None) is None:
        ids = [env.device.index] if env.device.type == "cuda" else None
        # object.__setattr__: keep the wrapper out of the module's state_dict
        object.__setattr__(
            module, "_drnet_ddp", DistributedDataParallel(module, device_ids=ids, find_unused_parameters=find_unused)
        )
    return module._drnet_ddp  # type: ignore[return-value]


def train(
    cfg: TrainConfig, *, resume: bool = False, progress: bool = True, log: Callable[[str], None] = print
) -> dict[str, Any]:
    """Train per ``cfg`` (see :class:`TrainConfig`); returns the last epoch's metrics."""
    trainer = Trainer(cfg, resume=resume, progress=progress, log=log)
    if trainer.start_epoch >= cfg.epochs:
        log(f"{cfg.out} already holds all {cfg.epochs} epochs; nothing to do")
        return {}
    try:
        return trainer.run()
    finally:
        if trainer.env.world > 1 and dist.is_initialized():
            dist.destroy_process_group()
