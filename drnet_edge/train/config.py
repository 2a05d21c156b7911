"""``TrainConfig``: everything ``drnet-edge train`` takes, its validation and derived defaults."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch

from .._io import check_writable
from ..errors import ConfigError

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
    augment: bool = True
    workers: int = 2
    seed: int = 0
    limit: int | None = None

    def validate(self) -> None:
        if self.mode not in MODES:
            raise ConfigError(f"--mode must be one of {', '.join(MODES)} (or auto), got {self.mode!r}")
        if self.epochs < 1 or self.batch_size < 1 or self.views < 1:
            raise ConfigError("--epochs, --batch-size and --views must be at least 1")
        if self.target_ratio is not None and not 0 < self.target_ratio <= 1:
            raise ConfigError(f"--target-ratio must be in (0, 1], got {self.target_ratio}")
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
        if self.distill > 0 and self.pretrain_epochs == 0:
            raise ConfigError("--distill applies to multi-resolution epochs, and --pretrain-epochs 0 leaves none")
        if self.pretrain_epochs is not None and not 0 <= self.pretrain_epochs <= self.epochs:
            raise ConfigError("--pretrain-epochs must be between 0 and --epochs")

    def check_outputs(self, resume: bool = False) -> None:
        """Every file the run writes (the checkpoint, ``<out>.metrics.jsonl``, ``<out>.classes.txt``, the
        predictor-mode cache folder) checked before any work, so a bad ``--out`` never costs an epoch."""
        out = Path(self.out)
        check_writable(out, "--out")
        if resume and not out.is_file():
            raise ConfigError(
                f"--resume: {out} does not exist, so there is no run to continue; drop --resume to start one"
            )
        for suffix in (".metrics.jsonl", ".classes.txt"):
            check_writable(Path(f"{out}{suffix}"), "--out")
        if self.mode == "predictor" or self.cache_dir:
            cache = self.cache_dir or f"{out}.cache"
            check_writable(cache, "--cache-dir" if self.cache_dir else "--out", directory=True)

    def default_lr(self) -> float:
        return self.lr if self.lr is not None else (1e-3 if self.mode == "predictor" else 0.01)


def resolve_joint_forward(joint_forward: str, device: torch.device) -> str:
    """``auto`` is ``all`` on a CUDA device (fixed tensor shapes; the split's changing group sizes
    made joint epochs 5-10x slower there) and ``chosen`` elsewhere (cheapest on a CPU)."""
    if joint_forward not in JOINT_FORWARDS:
        raise ConfigError(f"--joint-forward must be auto, chosen or all, got {joint_forward!r}")
    if joint_forward == "auto":
        return "all" if device.type == "cuda" else "chosen"
    return joint_forward
