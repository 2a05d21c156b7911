"""Benchmark converted artifacts on this machine with the real runtimes.

Two measurements, both on real images decoded before timing starts:

* per model: ``warmup`` untimed runs then ``runs`` timed runs of one preprocessed image;
* per policy (``fixed-R`` for every resolution, and ``drnet``): every image end to end (centre crop,
  resize, normalise, predictor for ``drnet``, backbone), the policies **interleaved** image by
  image in rotating order so all of them see the same thermal and cache state.
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable

import numpy as np

from ..data import ImageFolder
from ..errors import BadImageError
from ..preprocess import center_crop_square, load_image, resize_square, to_array
from ..progress import progress_bar
from ..runtime import ArtifactDRNet
from .energy import EnergyAccumulator, EnergyMeter, EnergyUnavailable, IdleBaseline, measure_idle, rapl_meter
from .options import BenchOptions
from .stats import latency_stats

SCHEDULE = "interleaved: each image runs every policy in rotating order, so all share one thermal state"


def local_device() -> dict:
    """What this machine is, for the report."""
    cpu = platform.processor()
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "name": "local",
        "kind": "local",
        "machine": platform.machine(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "os": platform.platform(),
    }


def decode_images(folder: ImageFolder, skip_bad: bool, progress: bool) -> tuple[list[np.ndarray], list[int], list[str]]:
    """Decode every image up front (decode is excluded from timing)."""
    images, labels, bad = [], [], []
    with progress_bar(len(folder), "decoding", enabled=progress) as advance:
        for path, label in zip(folder.paths, folder.labels, strict=True):
            try:
                images.append(load_image(path))
                labels.append(label)
            except BadImageError:
                if not skip_bad:
                    raise
                bad.append(str(path))
            advance(1)
    return images, labels, bad


def _pipelines(art: ArtifactDRNet) -> dict[str, Callable[[np.ndarray], tuple[int, int | None]]]:
    """One callable per policy: decoded RGB image -> (top-1 class, chosen resolution index or None)."""
    pre, res = art.preprocess, art.resolutions

    def fixed(k: int) -> Callable[[np.ndarray], tuple[int, int | None]]:
        run, r = art.runner(f"backbone_{res[k]}"), res[k]

        def go(img: np.ndarray) -> tuple[int, int | None]:
            x = to_array(resize_square(center_crop_square(img, pre.crop_pct), r, pre.interpolation), pre)
            return int(run(x)[0].argmax()), None

        return go

    pipes = {f"fixed-{r}": fixed(k) for k, r in enumerate(res)}
    if art.predictor is not None:
        predictor, thumb = art.predictor, art.thumb_size
        backbones = [art.runner(f"backbone_{r}") for r in res]

        def drnet(img: np.ndarray) -> tuple[int, int | None]:
            sq = center_crop_square(img, pre.crop_pct)
            k = int(predictor(to_array(resize_square(sq, thumb, pre.interpolation), pre))[0].argmax())
            x = to_array(resize_square(sq, res[k], pre.interpolation), pre)
            return int(backbones[k](x)[0].argmax()), k

        pipes["drnet"] = drnet
    return pipes


def _timed(fn: Callable[[], object], meter: EnergyMeter | None, acc: EnergyAccumulator | None) -> float:
    a = meter.read() if meter else None
    t0 = time.perf_counter()
    fn()
    dt = time.perf_counter() - t0
    if meter and acc is not None and a is not None:
        acc.add(a, meter.read())
    return 1e3 * dt


def open_local_meter(energy: bool) -> tuple[EnergyMeter | None, str | None]:
    """The RAPL meter when ``energy`` is asked for and readable, else ``None`` and the reason."""
    if not energy:
        return None, "not measured: pass --energy"
    try:
        return rapl_meter(), None
    except EnergyUnavailable as exc:
        return None, f"not measured: {exc}"


def bench_local(art: ArtifactDRNet, images: list[np.ndarray], labels: list[int], opts: BenchOptions) -> dict:
    """Measure every model and every policy; returns the ``models`` and ``policies`` parts of the report
    (raw: no ratios) plus ``energy`` details. From ``opts``: runs, warmup, energy, idle_s, progress."""
    runs, warmup, energy, idle_s, progress = opts.runs, opts.warmup, opts.energy, opts.idle_s, opts.progress
    meter, energy_note = open_local_meter(energy)
    idle: IdleBaseline | None = measure_idle(meter, idle_s) if meter else None
    pre = art.preprocess

    models: dict[str, dict] = {}
    with progress_bar(len(art.models), "models", enabled=progress) as advance:
        for name, info in art.models.items():
            run = art.runner(name)
            x = to_array(resize_square(center_crop_square(images[0], pre.crop_pct), info["input_size"]), pre)
            for _ in range(warmup):
                run(x)
            acc = EnergyAccumulator(meter) if meter else None
            samples = [_timed(lambda run=run, x=x: run(x), meter, acc) for _ in range(runs)]
            models[name] = {
                "file": info["file"],
                "precision": info["precision"],
                "macs_m": info["macs"] / 1e6,
                "input_size": info["input_size"],
                "latency": latency_stats(samples).to_json(),
                "load_ms": art.load_ms.get(name),
                "peak_memory_mb": None,
                "memory_note": "the Python runtimes do not report per-model memory; see process_peak_rss_mb",
                "energy_mj": _total(acc.net_mj(idle)) if acc else None,
            }
            advance(1)

    pipes = _pipelines(art)
    names = list(pipes)
    for img in images[: min(warmup, len(images))]:
        for fn in pipes.values():
            fn(img)
    times: dict[str, list[float]] = {n: [] for n in names}
    correct: dict[str, list[bool]] = {n: [] for n in names}
    choices: list[int] = []
    accs = {n: EnergyAccumulator(meter) for n in names} if meter else {}
    with progress_bar(len(images), "policies (interleaved)", enabled=progress) as advance:
        for i, (img, y) in enumerate(zip(images, labels, strict=True)):
            for name in names[i % len(names) :] + names[: i % len(names)]:
                out: list = []
                call = lambda name=name, img=img, out=out: out.append(pipes[name](img))  # noqa: E731
                times[name].append(_timed(call, meter, accs.get(name)))
                top, k = out[0]
                correct[name].append(top == y)
                if k is not None:
                    choices.append(k)
            advance(1)

    labelled = all(y >= 0 for y in labels)
    policies: dict[str, dict] = {}
    for name in names:
        if name == "drnet":
            share = np.bincount(choices, minlength=len(art.resolutions)) / max(len(choices), 1)
            macs = art.predictor_macs() + sum(
                s * art.backbone_macs(r) for s, r in zip(share, art.resolutions, strict=True)
            )
        else:
            r = int(name.removeprefix("fixed-"))
            share = np.array([float(r == q) for q in art.resolutions])
            macs = art.backbone_macs(r)
        stats = latency_stats(times[name])
        policies[name] = {
            "top1": float(np.mean(correct[name])) if labelled else None,
            "latency_ms": stats.mean_ms,
            "latency_p50_ms": stats.p50_ms,
            "latency_p90_ms": stats.p90_ms,
            "latency_p99_ms": stats.p99_ms,
            "latency_std_ms": stats.std_ms,
            "n": stats.runs,
            "macs_m": macs / 1e6,
            "resolution_share": {str(r): float(s) for r, s in zip(art.resolutions, share, strict=True)},
            "energy_mj": _total(accs[name].net_mj(idle)) if name in accs else None,
            "energy_rails_mj": accs[name].net_mj(idle) if name in accs else None,
            "energy_note": meter.note if meter else energy_note,
            "method": "measured end to end per image (crop, resize, normalise"
            + (", predictor" if name == "drnet" else "")
            + ", backbone); decode excluded",
        }
    return {
        "models": models,
        "policies": policies,
        "schedule": SCHEDULE,
        "energy": {
            "meter": meter.name if meter else None,
            "note": meter.note if meter else energy_note,
            "idle": idle.to_json() if idle else None,
        },
        "process_peak_rss_mb": _peak_rss_mb(),
    }


def _total(mj: dict[str, float] | None) -> float | None:
    return None if mj is None else mj["total"]


def _peak_rss_mb() -> float | None:
    try:
        for line in open("/proc/self/status", encoding="utf-8"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None
