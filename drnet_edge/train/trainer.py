"""``Trainer``: one training run's state and its epochs (predictor, multi-resolution, joint, plain),
atomic per-epoch checkpoints, exact ``--resume``; and ``train()``, the entry point."""

from __future__ import annotations

import dataclasses
import json
import math
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader
from torch.utils.data.distributed import DistributedSampler

from .._io import atomic_write_text
from ..data.preprocess import to_tensor
from ..errors import CheckpointError, DrnetEdgeError
from ..models.checkpoint import make_checkpoint, read_checkpoint, save_checkpoint
from ..models.drnet import gumbel_choice, macs_penalty
from ..progress import fmt_duration, progress_bar
from . import interrupt
from .cache import outcome_cache
from .config import TrainConfig, pick_mode, resolve_joint_forward, train_size
from .distributed import _ddp, close_distributed, init_distributed
from .setup import (
    _classes_for,
    _frozen_drnet,
    build_for_training,
    init_from_checkpoint,
    load_weights,
    macs_table,
    target_macs_m,
)
from .split import run_data_record, start_lines
from .step import TrainStep
from .views import ViewDataset, collate_views

# settings a --resume must share with the run it continues
RESUME_MUST_MATCH = (
    "backbone",
    "resolutions",
    "mode",
    "data",
    "seed",
    "thumb_size",
    "subset",
    "resolution_bn",
    "epochs",
    "train_scale",
)


class Trainer:
    """Holds the state of one training run; ``run()`` trains from scratch or from ``--resume``."""

    def __init__(
        self,
        cfg: TrainConfig,
        *,
        resume: bool = False,
        overwrite: bool = False,
        progress: bool = True,
        log: Callable[[str], None] = print,
    ) -> None:
        note = cfg.prepare(resume=resume, overwrite=overwrite)  # in place: the caller's config says which mode ran
        self.env = init_distributed()
        # the forward actually used (``auto`` resolved for this device) is what the checkpoint records
        cfg = dataclasses.replace(cfg, joint_forward=resolve_joint_forward(cfg.joint_forward, self.env.device))
        self.cfg, self.progress = cfg, progress
        self.log = log if self.env.main else (lambda msg: None)
        if note:
            self.log(note)
        torch.manual_seed(cfg.seed)
        frozen = _frozen_drnet(cfg)
        self.folder, self.classes, imagenet_head = _classes_for(cfg, frozen[1] if frozen else None)
        self.model = build_for_training(cfg, self.classes, imagenet_head, frozen[0] if frozen else None)
        self.data = run_data_record(cfg, self.folder)  # which photos trained what: kept in meta (split.py)
        for line in start_lines(self.data) if self.env.main else []:
            print(line, file=sys.stderr, flush=True)
        self.macs, self.pred_macs = macs_table(self.model, len(self.classes))
        self.target = target_macs_m(cfg, self.macs)
        self.start_epoch = 0
        self._epoch_seconds: list[float] = []
        self.out = Path(cfg.out)
        self.metrics_path = Path(str(cfg.out) + ".metrics.jsonl")
        if cfg.init_from and frozen is None:
            init_from_checkpoint(cfg, self.model, self.classes)
            self.log(f"initialised from {cfg.init_from}")
        self.model.to(self.env.device)
        self.step_module = TrainStep(
            self.model, self.macs, self.pred_macs, self.target, cfg.eta, cfg.tau, cfg.joint_forward, cfg.distill
        ).to(self.env.device)
        self.optimizer = self._optimizer(phase="joint" if cfg.mode == "predictor" else self.phase(0))
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
        meta["data"] = self.data
        ckpt = make_checkpoint(
            self.model, self.classes, include_backbone=include_backbone, train_state=state, meta=meta
        )
        save_checkpoint(self.out, ckpt)
        with open(self.metrics_path, "a", encoding="utf-8") as f:
            f.write(json.dumps({"epoch": epoch + 1, **metrics}) + "\n")

    def _resume(self) -> None:
        ckpt = read_checkpoint(self.out)
        state = ckpt.get("train_state")
        if not state:
            raise CheckpointError(f"{self.out} holds no training state (a shipped model?); cannot --resume from it")
        saved, mine = json.loads(state["config"]), asdict(self.cfg)
        default = asdict(TrainConfig(data="", out=""))  # a setting newer than the checkpoint: its default then
        diff = [k for k in RESUME_MUST_MATCH if saved.get(k, default[k]) != mine.get(k)]
        if diff:
            raise CheckpointError(
                f"{self.out} was trained with different {', '.join(diff)}; --resume needs the same settings (or a new --out)"
            )
        load_weights(self.model, ckpt, f"--resume {self.out}")
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

    @property
    def train_sizes(self) -> list[int]:
        """The crop side each resolution's path trains on (its resolution, unless ``--train-scale``)."""
        return [train_size(r, self.cfg.train_scale) for r in self.model.resolutions]

    # -- run ----------------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        """Train the remaining epochs; the first Ctrl-C stops after the batch in hand (one process)."""
        with interrupt.stop_after_batch(enabled=self.env.world == 1):
            return self._run()

    def _run(self) -> dict[str, Any]:
        cfg = self.cfg
        ds = ViewDataset(
            self.folder,
            self.train_sizes + ([self.model.thumb_size] if self.model.thumb_size else []),
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
            epoch_start = time.monotonic()
            phase = self.phase(epoch)
            if epoch > 0 and phase == "joint" and self.phase(epoch - 1) == "multi":
                self.optimizer = self._optimizer("joint")
            self._set_lr(epoch)
            if cache is not None:
                metrics = self._predictor_epoch(epoch, cache)
            else:
                metrics = self._backbone_epoch(epoch, ds, phase)
            metrics["phase"] = phase
            metrics["seconds"] = round(time.monotonic() - epoch_start, 1)
            self._epoch_seconds.append(metrics["seconds"])
            self._save(epoch, metrics)
            self.log(epoch_line(epoch, cfg.epochs, phase, metrics, self._epoch_seconds))
            interrupt.check()
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
                if start + self.cfg.batch_size < len(order):  # after the epoch's last batch: saved first
                    interrupt.check()
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

    def _loader(self, epoch: int, ds: ViewDataset) -> DataLoader:
        """Epoch ``epoch``'s batches: shuffled by a generator seeded by (seed, epoch), split by rank under torchrun."""
        cfg, env = self.cfg, self.env
        sampler = (
            DistributedSampler(ds, num_replicas=env.world, rank=env.rank, shuffle=True, seed=cfg.seed)
            if env.world > 1
            else None
        )
        if sampler is not None:
            sampler.set_epoch(epoch)
        return DataLoader(
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

    def _backbone_epoch(self, epoch: int, ds: ViewDataset, phase: str) -> dict[str, Any]:
        env, model = self.env, self.model
        ds.epoch = epoch
        loader = self._loader(epoch, ds)
        step = _ddp(self.step_module, env, find_unused=True)
        model.train()
        totals = {"loss": 0.0, "top1": 0.0, "macs_m": 0.0}
        steps = 0
        sizes = self.train_sizes
        with progress_bar(len(loader), f"epoch {epoch + 1} ({phase})", enabled=self.progress and env.main) as advance:
            for batch in loader:
                labels = batch["label"].to(env.device)
                xs = [to_tensor(batch["crops"][s], model.preprocess).to(env.device, non_blocking=True) for s in sizes]
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
                if steps < len(loader):  # after the epoch's last batch: saved first
                    interrupt.check()
        return {k: env.mean(v / max(steps, 1)) for k, v in totals.items()}


def epoch_line(epoch: int, epochs: int, phase: str, metrics: dict[str, Any], seconds: list[float]) -> str:
    """``epoch 2/6 [multi] 2m10s (about 8m40s left) loss=1.2 top1=0.61``: the epoch's time, and the
    remaining epochs at this run's mean epoch time so far."""
    left = epochs - epoch - 1
    eta = f" (about {fmt_duration(left * sum(seconds) / len(seconds))} left)" if left and seconds else ""
    values = " ".join(f"{k}={v:.4g}" for k, v in metrics.items() if isinstance(v, float) and k != "seconds")
    return f"epoch {epoch + 1}/{epochs} [{phase}] {fmt_duration(seconds[-1]) if seconds else ''}{eta} {values}"


def train(
    cfg: TrainConfig,
    *,
    resume: bool = False,
    overwrite: bool = False,
    progress: bool = True,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Train per ``cfg`` (see :class:`TrainConfig`); returns the last epoch's metrics. An existing
    checkpoint in ``cfg.out`` is continued with ``resume``, replaced only with ``overwrite``."""
    trainer = Trainer(cfg, resume=resume, overwrite=overwrite, progress=progress, log=log)
    if trainer.start_epoch >= cfg.epochs:
        log(f"{cfg.out} already holds all {cfg.epochs} epochs; nothing to do")
        return {}
    try:
        return trainer.run()
    finally:
        close_distributed(trainer.env)


def interrupted_note(cfg: TrainConfig, *, resume: bool, started: float) -> str:
    """After Ctrl-C: what is on disk, truly (the checkpoint ``--out`` holds, if any, and whether this run
    wrote it) and whether ``--resume`` continues it. ``started``: the run's start (``time.time()``)."""
    out = Path(cfg.out)
    cache = Path(cfg.cache_dir or f"{out}.cache")
    kept = (
        f"; {cache} keeps the backbone outcomes computed so far (a rerun skips them)"
        if cfg.mode in ("predictor", "auto") and any(cache.glob("outcomes-*.pt"))
        else ""
    )
    if not out.is_file():
        return (
            f"no checkpoint was written ({out} does not exist: no epoch had ended), so there is nothing to "
            f"--resume; run the same command again to start over{kept}"
        )
    try:
        ckpt = read_checkpoint(out)
    except DrnetEdgeError:
        return f"{out} is not a readable checkpoint, so there is nothing to --resume; start again{kept}"
    state, done = ckpt.get("train_state"), (ckpt.get("meta") or {}).get("epochs_done", "?")
    if out.stat().st_mtime >= started:
        return (
            f"{out} holds the last complete epoch ({done} of {cfg.epochs}): continue with the same command and --resume"
        )
    of = f"{done} of {cfg.epochs} epochs done"
    if resume:
        return f"no epoch ended in this run; {out} is as it was ({of}): continue with --resume{kept}"
    earlier = f"no epoch ended in this run, so it wrote nothing; {out} is an earlier run's file ({of}, untouched)"
    if not state:
        return f"{earlier} without training state: --resume cannot continue it; run again without --resume{kept}"
    saved, mine = json.loads(state["config"]), asdict(cfg)
    if mine["mode"] == "auto":
        mine["mode"] = pick_mode(cfg)[0]
    if any(saved.get(k) != mine.get(k) for k in RESUME_MUST_MATCH):
        return f"{earlier}, trained with other settings: --resume does not apply; run again without it{kept}"
    return f"{earlier}, trained with these settings: the same command with --resume continues it{kept}"
