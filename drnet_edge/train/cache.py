"""Predictor mode's outcome cache: the frozen backbone's loss and correctness at every resolution,
and the predictor's thumbnail, for every image and augmented view, computed once and kept on disk.

Each entry keeps where its views cut the image (``box``), so a run with another ``--thumb-size`` only
cuts new thumbnails from the same views (``thumb<size>``): the backbone does not run again."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from .._io import atomic_write, sha256_file
from ..data.augment import crops_from_box
from ..data.folders import ImageFolder
from ..data.preprocess import load_image, to_tensor
from ..models.drnet import DRNet
from ..progress import progress_bar
from ..runtime.bundled import resolve_model
from . import interrupt
from .config import TrainConfig
from .distributed import Dist
from .views import ViewDataset

Store = dict[str, dict[str, torch.Tensor]]


def _cache_key(cfg: TrainConfig, model: DRNet) -> str:
    parts = {
        "backbone": cfg.backbone,
        "weights": str(cfg.weights),
        "resolutions": model.resolutions,
        "entries": "boxed",  # per entry: the views' boxes, thumbnails by size (older caches: not read)
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
    store: Store = {}
    if path.is_file():
        store = torch.load(path, map_location="cpu", weights_only=True)
    keys = [str(p.resolve()) for p in folder.paths]
    thumb = f"thumb{model.thumb_size}"
    todo = [i for i, k in enumerate(keys) if k not in store or store[k]["ce"].shape[0] < cfg.views]
    fresh = set(todo)
    cut = [i for i, k in enumerate(keys) if i not in fresh and thumb not in store[k]]
    model.to(env.device).eval()
    label = f"backbone outcomes ({cfg.views} views x {len(model.resolutions)} resolutions)"
    store = _fill(
        store, todo, lambda c: _outcomes(model, ds, c, cfg.views, env.device), keys, label, path, env, progress
    )
    store = _fill(
        store,
        cut,  # another --thumb-size: cut from the cached views, the backbone does not run
        lambda c: [{**store[keys[i]], thumb: _thumbs(ds, i, store[keys[i]]["box"], model.thumb_size)} for i in c],
        keys,
        f"{model.thumb_size} px thumbnails of the cached views",
        path,
        env,
        progress,
    )
    return {
        **{k: torch.stack([store[p][k][: cfg.views] for p in keys]) for k in ("ce", "correct", "agree")},
        "thumb": torch.stack([store[p][thumb][: cfg.views] for p in keys]),
    }


def _fill(
    store: Store,
    rows: list[int],
    compute: Callable[[list[int]], list[dict[str, torch.Tensor]]],
    keys: list[str],
    label: str,
    path: Path,
    env: Dist,
    progress: bool,
) -> Store:
    """Compute the entries of images ``rows`` (this rank's share) in chunks of 16, saving every 256
    and on Ctrl-C; returns the whole store."""
    if not rows:
        return store
    mine = rows[env.rank :: env.world]
    new: Store = {}
    with progress_bar(len(mine), label, enabled=progress and env.main) as advance:
        for start in range(0, len(mine), 16):
            chunk = mine[start : start + 16]
            new.update(zip([keys[i] for i in chunk], compute(chunk), strict=True))
            advance(len(chunk))
            stop = interrupt.requested()  # Ctrl-C: keep what was computed, then stop
            if (len(new) >= 256 or stop) and env.world == 1:
                store.update(new)
                new = {}
                atomic_write(path, lambda p, s=store: torch.save(s, p))
            if stop:
                raise KeyboardInterrupt
    return _write(store, new, path, env)


def _thumbs(ds: ViewDataset, i: int, boxes: torch.Tensor, size: int) -> torch.Tensor:
    """Image ``i``'s thumbnails of side ``size``, cut from its cached views' ``boxes``."""
    img = load_image(ds.folder.paths[i])
    return torch.from_numpy(np.stack([crops_from_box(img, tuple(b.tolist()), [size], ds.pre)[size] for b in boxes]))


def _outcomes(
    model: DRNet, ds: ViewDataset, chunk: list[int], views: int, device: torch.device
) -> list[dict[str, torch.Tensor]]:
    """The outcomes of images ``chunk`` (in order), each over ``views`` views (view 0 the centre crop)."""
    items = [(i, v, ds.item(i, v or None)) for i in chunk for v in range(views)]
    crops = {s: np.stack([it[2]["crops"][s] for it in items]) for s in ds.sizes}
    labels = torch.tensor([it[2]["label"] for it in items])
    logits = [
        model.backbone_at(to_tensor(crops[r], model.preprocess).to(device), k).float().cpu()
        for k, r in enumerate(model.resolutions)
    ]
    top1 = torch.stack([lg.argmax(1) for lg in logits], 1)
    target = torch.where(labels >= 0, labels, top1[:, 0])  # unlabelled: the largest resolution's top-1
    ce = torch.stack([F.cross_entropy(lg, target, reduction="none") for lg in logits], 1)
    out = []
    for j in range(len(chunk)):
        sl = slice(j * views, (j + 1) * views)
        out.append(
            {
                "ce": ce[sl].half(),
                "correct": top1[sl] == labels[sl, None],
                "agree": top1[sl] == top1[sl, :1],
                f"thumb{model.thumb_size}": torch.from_numpy(crops[model.thumb_size][sl]),
                "box": torch.tensor([it[2]["box"] for it in items[sl]], dtype=torch.int32),
            }
        )
    return out


def _write(store: Store, new: Store, path: Path, env: Dist) -> Store:
    """Add the outcomes computed here (``new``) to the cache file; under torchrun rank 0 merges every
    rank's part. Returns the whole store."""
    if env.world > 1:
        cache_dir = path.parent
        part = cache_dir / f"part-{env.rank}.pt"
        atomic_write(part, lambda p: torch.save(new, p))
        env.barrier()
        if env.main:
            for r in range(env.world):
                store.update(torch.load(cache_dir / f"part-{r}.pt", map_location="cpu", weights_only=True))
            atomic_write(path, lambda p: torch.save(store, p))
        env.barrier()
        return torch.load(path, map_location="cpu", weights_only=True)
    if new or not path.is_file():
        store.update(new)
        atomic_write(path, lambda p: torch.save(store, p))
    return store
