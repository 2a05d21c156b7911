"""Distributed helpers: torchrun sets RANK / WORLD_SIZE / LOCAL_RANK; one process needs none of this."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import torch
import torch.distributed as dist
from torch import nn


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


def close_distributed(env: Dist) -> None:
    """Leave the process group joined by :func:`init_distributed` (torchrun runs only)."""
    if env.world > 1 and dist.is_initialized():
        dist.destroy_process_group()


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
