"""Probe: move a 224-trained Lite0's BatchNorm statistics to a lower input resolution by the *shift*
measured on a few photos, not by re-estimating them there.

Re-estimating BatchNorm statistics outright from a few hundred centre crops costs points even at 224
(an earlier probe, whose notes are not part of this repository: 88.4% -> 80.4%): the small sample's own
bias swamps the change. Here each BN layer keeps its stored statistics plus the difference the
resolution makes on the same photos: running_mean += m_R - m_224, running_var *= v_R / v_224, where m
and v are the per-channel mean and variance of the layer's input over the photos, measured layer by
layer (each layer sees the layers before it already moved). At 224 this is the identity by
construction; the photos' bias cancels to first order. FixRes (Touvron et al., 2019) argues a lower
test resolution shifts the activation statistics in a systematic way: this tests whether that shift
transfers from few photos.

Frozen ImageNet EfficientNet-Lite0 (PyTorch fp32), the 500 shared ImageNet photos in their two hash
folds (test:0/2, test:1/2, as benchmarks/probes/dynamic_policies.py): statistics measured on one fold (with
``WOOF_N`` > 0 also a second pool: that fold plus Imagewoof training photos), accuracy on the other;
then swap.
Writes per-resolution top-1 (plain, shifted, re-estimated) and per-photo outcomes for the cascade
replay.

    .venv/bin/python benchmarks/probes/bn_shift_probe.py   # writes benchmarks/results/bn_shift_probe.json
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import torch
from _lite0_photos import DATA, SHARED, load_lite0_photos
from torch import nn

from drnet_edge._io import atomic_write_json
from drnet_edge.data.folders import scan_folder
from drnet_edge.data.preprocess import center_crop_square, load_image, resize_square, to_tensor
from drnet_edge.progress import progress_bar

WOOF = SHARED / "imagewoof-train-3k"
OUT = Path(__file__).resolve().parents[1] / "results" / "bn_shift_probe.json"
RESOLUTIONS = (128, 160)
BATCH = 50
WOOF_N = 0  # Imagewoof training photos added to a second pool (0: no second pool; each pool costs ~5 min)


def POOLS(fold: list, woof: list) -> tuple:  # noqa: ANN001, N802
    return (("fold", fold),) if not woof else (("fold", fold), ("fold+imagewoof", fold + woof))


def crops(images: list[np.ndarray], r: int, pre) -> torch.Tensor:  # noqa: ANN001
    x = np.stack([resize_square(center_crop_square(im, pre.crop_pct), r, pre.interpolation) for im in images])
    return torch.cat([to_tensor(x[i : i + BATCH], pre) for i in range(0, len(x), BATCH)])


def bn_layers(net: nn.Module) -> list[nn.modules.batchnorm._BatchNorm]:
    return [m for m in net.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]


class _Moments:
    """Per-channel sums of a layer input over every photo and position (float64)."""

    def __init__(self) -> None:
        self.s: torch.Tensor | float = 0.0
        self.q: torch.Tensor | float = 0.0
        self.n = 0

    def add(self, x: torch.Tensor) -> None:
        t = x.double()
        self.s = self.s + t.sum((0, 2, 3))
        self.q = self.q + (t * t).sum((0, 2, 3))
        self.n += t.shape[0] * t.shape[2] * t.shape[3]

    def mean_var(self) -> tuple[torch.Tensor, torch.Tensor]:
        m = self.s / self.n
        return m, self.q / self.n - m * m  # type: ignore[return-value]


class StopForward(Exception):
    """Raised by the hook: nothing after the measured layer needs to run."""


@torch.no_grad()
def input_moments(net: nn.Module, x: torch.Tensor, layer: nn.Module) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean and variance of ``layer``'s input over every photo and position (the forward
    stops at ``layer``)."""
    acc = _Moments()

    def hook(_m, args):  # noqa: ANN001, ANN202
        acc.add(args[0])
        raise StopForward

    h = layer.register_forward_pre_hook(hook)
    try:
        for i in range(0, len(x), BATCH):
            try:
                net(x[i : i + BATCH])
            except StopForward:
                pass
    finally:
        h.remove()
    return acc.mean_var()


@torch.no_grad()
def all_moments(net: nn.Module, x: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Every BN layer's input moments in one pass (``net`` is not modified, so one pass serves all)."""
    accs = [_Moments() for _ in bn_layers(net)]
    hooks = [
        m.register_forward_pre_hook(lambda _m, args, a=a: a.add(args[0]))
        for m, a in zip(bn_layers(net), accs, strict=True)
    ]
    try:
        for i in range(0, len(x), BATCH):
            net(x[i : i + BATCH])
    finally:
        for h in hooks:
            h.remove()
    return [a.mean_var() for a in accs]


@torch.no_grad()
def shifted(net: nn.Module, ref: list[tuple[torch.Tensor, torch.Tensor]], xr: torch.Tensor) -> nn.Module:
    """A copy of ``net`` whose BN statistics moved from 224 (``ref``: the input moments of every layer
    at 224 on the same photos) to the resolution of ``xr``, layer by layer."""
    out = copy.deepcopy(net).eval()
    for (m224, v224), bn in zip(ref, bn_layers(out), strict=True):
        mr, vr = input_moments(out, xr, bn)
        bn.running_mean += (mr - m224).float()
        bn.running_var *= (vr / v224.clamp_min(1e-12)).float()
    return out


@torch.no_grad()
def reestimated(net: nn.Module, xr: torch.Tensor) -> nn.Module:
    """A copy of ``net`` whose BN statistics are measured outright on ``xr`` (the earlier probe's way)."""
    out = copy.deepcopy(net).eval()
    for bn in bn_layers(out):
        m, v = input_moments(out, xr, bn)
        bn.running_mean.copy_(m.float())
        bn.running_var.copy_(v.float())
    return out


@torch.no_grad()
def outcomes(net: nn.Module, x: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    logits = torch.cat([net(x[i : i + BATCH]) for i in range(0, len(x), BATCH)])
    p = logits.softmax(1)
    return p.argmax(1).numpy(), p.max(1).values.numpy()


def main() -> None:
    lp = load_lite0_photos()
    pre, net, images, labels, folds = lp.pre, lp.net, lp.images, lp.labels, lp.folds
    woof = []
    if WOOF_N:
        paths = np.random.default_rng(0).permutation(scan_folder(WOOF, subset="train:0/5").paths)[:WOOF_N]
        woof = [load_image(p) for p in paths]
    result: dict = {"photos": str(DATA), "n": int(len(labels)), "model": "efficientnet_lite0", "rows": []}
    per_photo: dict[str, dict] = {}
    with progress_bar(len(RESOLUTIONS) * 2 * len(POOLS([], [])), "resolution x fold x pool") as advance:
        for f in (0, 1):
            stat_imgs = [im for im, k in zip(images, folds, strict=True) if k == f]
            ev = folds != f
            x_ev = {r: crops([im for im, e in zip(images, ev, strict=True) if e], r, pre) for r in (*RESOLUTIONS, 224)}
            top, conf = outcomes(net, x_ev[224])
            per_photo.setdefault("plain", {}).setdefault(224, {})[f] = (top, conf)
            for pool_name, pool in POOLS(stat_imgs, woof):
                ref = all_moments(net, crops(pool, 224, pre))
                for r in RESOLUTIONS:
                    xr = crops(pool, r, pre)
                    row = {"resolution": r, "stats_from_fold": f, "pool": pool_name, "n_pool": len(pool)}
                    for name, model in (
                        ("plain", net),
                        ("shifted", shifted(net, ref, xr)),
                        ("reestimated", reestimated(net, xr)),
                    ):
                        if name == "plain" and pool_name != "fold":
                            continue
                        top, conf = outcomes(model, x_ev[r])
                        row[name] = float((top == labels[ev]).mean())
                        per_photo.setdefault(f"{name}/{pool_name}" if name != "plain" else name, {}).setdefault(r, {})[
                            f
                        ] = (top, conf)
                    result["rows"].append(row)
                    print(row, flush=True)
                    advance(1)
    # pooled over the two evaluation folds: every photo once, with statistics from the other fold
    pooled = {}
    for key, by_r in per_photo.items():
        pooled[key] = {}
        for r, by_f in by_r.items():
            top = np.zeros(len(labels), np.int64)
            conf = np.zeros(len(labels))
            for f, (t, c) in by_f.items():
                top[folds != f], conf[folds != f] = t, c
            pooled[key][str(r)] = {
                "top1": float((top == labels).mean()),
                "pred": top.tolist(),
                "conf": conf.round(5).tolist(),
            }
    result["pooled"] = {k: {r: v["top1"] for r, v in d.items()} for k, d in pooled.items()}
    result["per_photo"] = pooled
    result["labels"] = labels.tolist()
    result["folds"] = folds.tolist()
    atomic_write_json(OUT, result)
    print(result["pooled"])


if __name__ == "__main__":
    main()
