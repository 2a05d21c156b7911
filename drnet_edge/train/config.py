"""``TrainConfig``: everything ``drnet-edge train`` takes, its validation and derived defaults. No PyTorch
here: ``drnet-edge train`` checks its whole command line (ranges, outputs, the training folder's
classes) with :meth:`TrainConfig.prepare` before it imports PyTorch or loads a model."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .._io import check_writable
from ..data.classes import WNID, imagenet_classes, read_class_file
from ..data.folders import _visible
from ..errors import ConfigError
from ..resolutions import parse_resolutions

if TYPE_CHECKING:
    import torch

MODES = ("predictor", "joint", "plain")
JOINT_FORWARDS = ("auto", "chosen", "all")


@dataclass
class TrainConfig:
    """Everything ``drnet-edge train`` takes (stored in the checkpoint for ``--resume`` checks)."""

    data: str
    out: str
    backbone: str = "efficientnet_lite0"
    resolutions: list[int] = field(default_factory=lambda: [224, 192, 160, 128])
    mode: str = "predictor"  # or "auto": predictor when the backbone knows the classes, else joint (pick_mode)
    weights: str | None = None
    classes: str | None = None
    subset: str | None = None
    extra_data: list[str] = field(default_factory=list)  # more folders, always used whole (not split)
    cache_dir: str | None = None  # predictor mode: outcome cache (default <out>.cache)
    init_from: str | None = None  # start from this DRNet checkpoint's backbone and predictor
    fresh_predictor: bool = False  # predictor mode with init_from: a new predictor, not the checkpoint's
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
    distill: float = 0.0  # multi-resolution epochs: weight of KL from the largest resolution to each smaller one
    train_scale: float = 1.0  # joint/plain: each resolution's path trains on crops this share of its side (FixRes)
    augment: bool = True
    workers: int = 2
    seed: int = 0
    limit: int | None = None

    def prepare(self, *, resume: bool = False, overwrite: bool = False) -> str | None:
        """Everything checkable before PyTorch is imported, in place: the resolutions parsed, ``auto``
        resolved to a mode (returns the line that says why, or None), every range, every output path
        (an existing checkpoint only with ``resume`` or ``overwrite``) and the training folder's classes."""
        self.resolutions = parse_resolutions(self.resolutions)
        note = None
        if self.mode == "auto":
            self.mode, note = pick_mode(self)
        self.validate()
        self.check_outputs(resume, overwrite=overwrite)
        self.check_classes()
        return note

    def validate(self) -> None:
        if self.mode not in MODES:
            raise ConfigError(f"--mode must be one of {', '.join(MODES)} (or auto), got {self.mode!r}")
        if self.epochs < 1 or self.batch_size < 1 or self.views < 1:
            raise ConfigError("--epochs, --batch-size and --views must be at least 1")
        if self.target_ratio is not None and not 0 < self.target_ratio <= 1:
            raise ConfigError(
                f"--target-ratio must be in (0, 1] (a share of the largest resolution's MACs), got {self.target_ratio:g}"
            )
        for flag, value, ok, rule in (
            ("--target-macs", self.target_macs, self.target_macs is None or self.target_macs > 0, "> 0 (millions)"),
            ("--eta", self.eta, self.eta >= 0, ">= 0 (0: no MACs constraint)"),
            ("--tau", self.tau, self.tau > 0, "> 0"),
            ("--lr", self.lr, self.lr is None or self.lr > 0, "> 0"),
            ("--workers", self.workers, self.workers >= 0, ">= 0"),
            ("--limit", self.limit, self.limit is None or self.limit >= 1, ">= 1"),
        ):
            if not ok:
                raise ConfigError(f"{flag} must be {rule}, got {value:g}")
        if not 16 <= self.thumb_size <= 128:
            raise ConfigError(f"--thumb-size must be between 16 and 128 px, got {self.thumb_size}")
        if self.mode != "plain" and len(self.resolutions) < 2:
            raise ConfigError(
                f"--mode {self.mode} trains a DRNet, which needs at least two --resolutions to choose from; "
                "--mode plain trains at one (the fixed-resolution baseline)"
            )
        if self.joint_forward not in JOINT_FORWARDS:
            raise ConfigError(f"--joint-forward must be auto, chosen or all, got {self.joint_forward!r}")
        if self.distill < 0:
            raise ConfigError(f"--distill must be >= 0 (0 = off), got {self.distill:g}")
        if self.distill > 0 and self.mode != "joint":
            raise ConfigError(
                "--distill applies to the multi-resolution epochs of --mode joint (the largest resolution "
                f"teaches the smaller ones); --mode {self.mode} has none"
            )
        if not 0.5 <= self.train_scale <= 1:
            raise ConfigError(
                f"--train-scale must be between 0.5 and 1 (each resolution's path trains on crops that share of its "
                f"side), got {self.train_scale:g}"
            )
        if self.train_scale != 1 and self.mode == "predictor":
            raise ConfigError(
                "--train-scale applies to the backbone's training (--mode joint or plain); predictor mode keeps it frozen"
            )
        if self.distill > 0 and self.pretrain_epochs == 0:
            raise ConfigError("--distill applies to multi-resolution epochs, and --pretrain-epochs 0 leaves none")
        if self.fresh_predictor and (self.mode != "predictor" or not self.init_from):
            raise ConfigError(
                "--fresh-predictor applies to --mode predictor --init-from CKPT (a new predictor on that frozen "
                "backbone instead of the checkpoint's); other runs start with a new predictor anyway"
            )
        if self.pretrain_epochs is not None and not 0 <= self.pretrain_epochs <= self.epochs:
            raise ConfigError("--pretrain-epochs must be between 0 and --epochs")

    def check_outputs(self, resume: bool = False, *, overwrite: bool = False) -> None:
        """Every file the run writes (the checkpoint, ``<out>.metrics.jsonl``, ``<out>.classes.txt``, the
        predictor-mode cache folder) checked before any work, so a bad ``--out`` never costs an epoch. An
        existing checkpoint is another run's work: continued with ``resume``, replaced only with ``overwrite``."""
        out = Path(self.out)
        check_writable(out, "--out")
        if resume and not out.is_file():
            raise ConfigError(
                f"--resume: {out} does not exist, so there is no run to continue; drop --resume to start one"
            )
        if resume and overwrite:
            raise ConfigError("--resume continues the run in --out and --overwrite starts it again: give one of them")
        if out.is_file() and not resume and not overwrite:
            raise ConfigError(
                f"--out {out} already exists (a checkpoint and its metrics): --resume continues that run, "
                "--overwrite starts again and replaces it, or choose a new --out"
            )
        for suffix in (".metrics.jsonl", ".classes.txt"):
            check_writable(Path(f"{out}{suffix}"), "--out")
        if self.mode == "predictor" or self.cache_dir:
            cache = self.cache_dir or f"{out}.cache"
            check_writable(cache, "--cache-dir" if self.cache_dir else "--out", directory=True)

    def check_classes(self) -> None:
        """A model that learns the classes (joint, plain) needs at least two: with one, every answer is
        right and training teaches nothing. Counted from the folder's sub-folders (or --classes)."""
        if self.mode == "predictor":
            return  # the backbone keeps its classes (ImageNet's 1000, or --init-from's)
        root = Path(self.data)
        if not root.is_dir():
            return  # the scan says what is wrong
        if self.classes:
            n, what = len(read_class_file(self.classes)), f"--classes {self.classes} lists"
        else:
            n, what = sum(1 for p in root.iterdir() if _visible(p) and p.is_dir()), f"--data {root} holds"
        if n == 1:
            raise ConfigError(
                f"{what} one class: a classifier of one class is always right and learns nothing; "
                "give a folder with one sub-folder per class, at least two"
            )

    def default_lr(self) -> float:
        return self.lr if self.lr is not None else (1e-3 if self.mode == "predictor" else 0.01)


def _few(names: tuple[str, ...] | list[str]) -> str:
    return ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")


def pick_mode(cfg: TrainConfig) -> tuple[str, str | None]:
    """``--mode auto`` (the default): ``predictor`` when the backbone already knows the classes (ImageNet
    wnid folders or class list, ``--init-from``, ``--weights``), else ``joint``, with a line saying so."""
    if cfg.init_from or cfg.weights:
        return "predictor", None
    if cfg.classes:
        given = read_class_file(cfg.classes)
        if given.ids == imagenet_classes().ids:
            return "predictor", None
        names = list(given.names)
    else:
        root = Path(cfg.data)
        names = sorted(p.name for p in root.iterdir() if _visible(p) and p.is_dir()) if root.is_dir() else []
        if not names or all(WNID.match(n) for n in names):
            return "predictor", None  # ImageNet classes (or a folder the scan refuses, saying why)
    return "joint", (
        f"own classes ({len(names)}: {_few(names)}; not ImageNet's): training --mode joint, the backbone and the "
        "predictor together; --mode plain trains the fixed-resolution baseline to compare with"
    )


def resolve_joint_forward(joint_forward: str, device: torch.device) -> str:
    """``auto`` is ``all`` on a CUDA device (fixed tensor shapes; the split's changing group sizes
    made joint epochs 5-10x slower there) and ``chosen`` elsewhere (cheapest on a CPU)."""
    if joint_forward not in JOINT_FORWARDS:
        raise ConfigError(f"--joint-forward must be auto, chosen or all, got {joint_forward!r}")
    if joint_forward == "auto":
        return "all" if device.type == "cuda" else "chosen"
    return joint_forward


def train_size(resolution: int, scale: float) -> int:
    """The side of the crops ``resolution``'s path trains on under ``--train-scale`` (Touvron et al.,
    NeurIPS 2019, "Fixing the train-test resolution discrepancy": a random resized crop shows objects
    larger than the centre crop at test, so a path trained a little below its test size sees them at the
    size it will meet); at least 16 px."""
    return max(16, int(round(resolution * scale)))
