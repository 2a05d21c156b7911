"""The local path's runs: photos decoded, the runtime warmed up, then every model and every policy timed
with the real runtimes on this machine (the path itself is :class:`~.local.LocalPath`).

Two measurements, both on real images decoded before timing starts:

* per model: ``warmup`` untimed runs then ``runs`` timed runs of one preprocessed image;
* per policy (``fixed-R`` for every resolution, the default policy, and ``drnet`` when there is a
  predictor): every image end to end (centre crop, one resize + normalise per resolution run,
  predictor, backbone(s): see :mod:`drnet_edge.runtime.loop`), the policies **interleaved** image by image in
  rotating order so all of them see the same thermal and cache state. Latency ratios against the
  largest fixed resolution come with bootstrap intervals.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ...data.folders import ImageFolder
from ...data.preprocess import center_crop_square, load_image, resize_square, to_model_input
from ...errors import BadImageError, DataError
from ...policy.deploy import default_spec
from ...policy.registry import Decision
from ...policy.rows import PolicyRow, compare_to_fixed_line, row_from_decision
from ...policy.stats import bootstrap_ratio
from ...progress import progress_bar
from ...runtime.artifacts import ArtifactDRNet
from ...runtime.interface import macs_by_resolution
from ...runtime.loop import Outcome, Pipeline, pipelines
from ..meters.energy import (
    EnergyAccumulator,
    EnergyMeter,
    EnergyUnavailable,
    IdleBaseline,
    hwmon_meter,
    measure_idle,
    rapl_meter,
)
from ..options import BenchOptions
from ..timing import latency_stats

if TYPE_CHECKING:
    from ...runtime.manifest import ModelEntry, TargetEntry

SCHEDULE = "interleaved: each image runs every policy in rotating order, so all share one thermal state"


def decode_images(folder: ImageFolder, skip_bad: bool, progress: bool) -> tuple[list[np.ndarray], list[int], list[str]]:
    """Decode every image up front (decode is excluded from timing). The photos are checked first: the
    progress bar starts at the first readable one, so a folder of unreadable photos gives its one-line
    error and nothing else."""
    images, labels, bad = [], [], []
    todo = list(zip(folder.paths, folder.labels, strict=True))

    def decode(path: Path, label: int) -> None:
        try:
            images.append(load_image(path))
            labels.append(label)
        except BadImageError:
            if not skip_bad:
                raise
            bad.append(str(path))

    done = 0
    while done < len(todo) and not images:
        decode(*todo[done])
        done += 1
    if not images:
        raise DataError(
            f"no readable image in {folder.root}: all {len(bad)} were skipped as unreadable (--skip-bad); "
            "point --data at a folder with readable photos"
        )
    with progress_bar(len(todo), "decoding", enabled=progress) as advance:
        advance(done)
        for path, label in todo[done:]:
            decode(path, label)
            advance(1)
    return images, labels, bad


def _timed(fn: Callable[[], object], meter: EnergyMeter | None, acc: EnergyAccumulator | None) -> float:
    a = meter.read() if meter else None
    t0 = time.perf_counter()
    fn()
    dt = time.perf_counter() - t0
    if meter and acc is not None and a is not None:
        acc.add(a, meter.read())
    return 1e3 * dt


def warm_runtime(root: Path, entry: TargetEntry, threads: int) -> float | None:
    """Import and initialise ``entry``'s runtime (the first load in a process pays it: ~19 s for
    ExecuTorch's) by loading its cheapest model once, before any timed load: the per-model load times
    then leave it out. Returns the milliseconds it took; ``None`` (nothing done) when that file is missing
    or altered, which loading the artifacts reports."""
    from ..._io import sha256_file
    from ...converters import get_target

    target = get_target(entry.name)
    target.check_runtime()
    info = min(entry.models.values(), key=lambda m: m.macs)
    path = root / info.file
    if not path.is_file() or sha256_file(path) != info.sha256:
        return None
    t0 = time.perf_counter()
    target.load(path, threads, entry=info.entry)
    return 1e3 * (time.perf_counter() - t0)


def open_local_meter(energy: bool) -> tuple[EnergyMeter | None, str | None]:
    """When ``energy`` is asked for: RAPL where readable, else hwmon sensors (boards); else ``None`` and
    the reasons."""
    if not energy:
        return None, "not measured: pass --energy"
    reasons = []
    for meter in (rapl_meter, hwmon_meter):
        try:
            return meter(), None
        except EnergyUnavailable as exc:
            reasons.append(str(exc))
    return None, f"not measured: {'; '.join(reasons)}"


def bench_local(art: ArtifactDRNet, images: list[np.ndarray], labels: list[int], opts: BenchOptions) -> dict:
    """Measure every model and every policy; returns the ``models`` and ``policies`` parts of the report
    (raw: no ratios) plus ``energy`` details. From ``opts``: runs, warmup, energy, idle_s, progress."""
    meter, energy_note = open_local_meter(opts.energy)
    idle: IdleBaseline | None = measure_idle(meter, opts.idle_s) if meter else None
    models = _bench_models(art, images[0], opts, meter, idle)
    pipes = pipelines(art, opts.policies)
    names = list(pipes)
    for img in images[: min(opts.warmup, len(images))]:
        for fn in pipes.values():
            fn(img)
    times: dict[str, list[float]] = {n: [] for n in names}
    outcomes: dict[str, list[Outcome]] = {n: [] for n in names}
    accs = {n: EnergyAccumulator(meter) for n in names} if meter else {}
    with progress_bar(len(images), "policies (interleaved)", enabled=opts.progress) as advance:
        for i, img in enumerate(images):
            for name in names[i % len(names) :] + names[: i % len(names)]:
                out: list[Outcome] = []
                call = lambda name=name, img=img, out=out: out.append(pipes[name](img))  # noqa: E731
                times[name].append(_timed(call, meter, accs.get(name)))
                outcomes[name].append(out[0])
            advance(1)
    macs = macs_by_resolution(art)
    policies = {
        name: _policy_row(art, macs, pipes[name], outcomes[name], times[name], labels)
        | {
            "energy_mj": _total(accs[name].net_mj(idle)) if name in accs else None,
            "energy_rails_mj": accs[name].net_mj(idle) if name in accs else None,
            "energy_note": meter.note if meter else energy_note,
        }
        for name in names
    }
    _latency_ratios(policies, times, f"fixed-{art.resolutions[0]}")
    if labels and all(y >= 0 for y in labels):
        _accuracy_comparisons(policies, outcomes, art.resolutions, np.asarray(labels))
    default = default_spec(art)
    return {
        "models": models,
        "policies": policies,
        "default_policy": default[0] if default else None,
        "schedule": SCHEDULE,
        "energy": {
            "meter": meter.name if meter else None,
            "note": meter.note if meter else energy_note,
            "idle": idle.to_json() if idle else None,
        },
        "process_peak_rss_mb": _peak_rss_mb(),
    }


def _bench_models(
    art: ArtifactDRNet, img: np.ndarray, opts: BenchOptions, meter: EnergyMeter | None, idle: IdleBaseline | None
) -> dict[str, dict]:
    """Each model alone: ``warmup`` untimed then ``runs`` timed runs on one preprocessed photo."""
    models: dict[str, dict] = {}
    with progress_bar(len(art.models), "models", enabled=opts.progress) as advance:
        for name, info in art.models.items():
            run = art.runner(name)
            x = _model_input(art, img, info)
            for _ in range(opts.warmup):
                run(x)
            acc = EnergyAccumulator(meter) if meter else None
            call = lambda run=run, x=x: run(x)  # noqa: E731
            samples = [_timed(call, meter, acc) for _ in range(opts.runs)]
            models[name] = {
                "file": info.file,
                "precision": info.precision,
                "macs_m": info.macs / 1e6,
                "input_size": info.input_size,
                "resolution_index": info.resolution_index,
                "latency": latency_stats(samples).to_json(),
                "load_ms": art.load_ms.get(name),
                "peak_memory_mb": None,
                "memory_note": "the Python runtimes do not report per-model memory; see process_peak_rss_mb",
                "energy_mj": _total(acc.net_mj(idle)) if acc else None,
            }
            advance(1)
    return models


def local_op_profile(art: ArtifactDRNet, img: np.ndarray, opts: BenchOptions, threads: int) -> dict:
    """``--op-profile`` here: each model on one preprocessed photo under its runtime's own profiler."""
    from ..meters.op_profile import local_profiles

    models = {
        name: (art.root / info.file, _model_input(art, img, info), info.entry) for name, info in art.models.items()
    }
    return local_profiles(art.target, models, max(opts.runs, 1), threads)


def _model_input(art: ArtifactDRNet, img: np.ndarray, info: ModelEntry) -> np.ndarray:
    """``img`` cropped, resized and normalised as model ``info`` takes it."""
    pre = art.preprocess
    square = center_crop_square(img, pre.crop_pct)
    return to_model_input(resize_square(square, info.input_size, pre.interpolation), pre, info.input_spec)


def _policy_row(
    art: ArtifactDRNet, macs: dict[int, int], pipe: Pipeline, outs: list[Outcome], times: list[float], labels: list[int]
) -> dict:
    """One policy's measured row: the shared schema (top-1, MACs of every pass, shares, escalation) plus
    latency and preprocessing time."""
    k = len(art.resolutions)
    ran = np.zeros((len(outs), k), dtype=bool)
    for i, o in enumerate(outs):
        ran[i, o.ran] = True
    used = any(o.used_predictor for o in outs)
    d = Decision(np.array([o.final for o in outs], dtype=np.int64), ran, uses_predictor=used)
    row = row_from_decision(
        d, art.resolutions, macs, correct=None, predictor_macs=art.predictor_macs(), description=pipe.description
    )
    labelled = all(y >= 0 for y in labels)
    row.top1 = float(np.mean([o.top1 == y for o, y in zip(outs, labels, strict=True)])) if labelled else None
    stats = latency_stats(times)
    pre = np.array([o.preprocess_ms for o in outs])
    steps = "crop, one resize + normalise per resolution run" + (", predictor" if used else "") + ", backbone(s)"
    return row.to_json() | {
        "latency_ms": stats.mean_ms,
        "latency_p50_ms": stats.p50_ms,
        "latency_p90_ms": stats.p90_ms,
        "latency_p99_ms": stats.p99_ms,
        "latency_std_ms": stats.std_ms,
        "preprocess_ms": float(pre.mean()),
        "preprocess_p50_ms": float(np.median(pre)),
        "preprocess_share_of_p50": float(np.median(pre) / stats.p50_ms) if stats.p50_ms else None,
        "n": stats.runs,
        "method": f"measured end to end per image ({steps}); decode excluded; an escalated image pays for every pass",
    }


def _latency_ratios(policies: dict[str, dict], times: dict[str, list[float]], ref: str) -> None:
    """Each policy's latency against ``ref`` on the same photos: ratio of means and of medians with 95%
    bootstrap intervals (photos resampled). In place."""
    if ref not in times:
        return
    for name, row in policies.items():
        row["latency_ratio_vs_ref"] = {
            "reference": ref,
            "mean": bootstrap_ratio(np.array(times[name]), np.array(times[ref]), "mean"),
            "median": bootstrap_ratio(np.array(times[name]), np.array(times[ref]), "median"),
        }


def _accuracy_comparisons(
    policies: dict[str, dict], outcomes: dict[str, list[Outcome]], resolutions: list[int], labels: np.ndarray
) -> None:
    """Each dynamic policy's measured answers against the fixed frontier at its MACs, its random
    control and the largest resolution (paired SE), as ``eval`` reports them: every fixed resolution
    ran on every photo, so the control (the policy's decisions dealt at random) is scored exactly."""
    right = np.stack([np.array([o.top1 for o in outcomes[f"fixed-{r}"]]) == labels for r in resolutions], axis=1)
    rows = {f"fixed-{r}": PolicyRow(None, policies[f"fixed-{r}"]["macs_m"], {}, correct=right[:, k])
            for k, r in enumerate(resolutions)}  # fmt: skip
    idx = np.arange(len(labels))
    for name, p in policies.items():
        if name in rows:
            continue
        final = np.array([o.final for o in outcomes[name]])
        rows[name] = PolicyRow(None, p["macs_m"], {}, dynamic=True, correct=right[idx, final])
        perm = np.random.default_rng(0).permutation(len(final))
        rows[f"random-{name}"] = PolicyRow(None, p["macs_m"], {}, control_of=name, correct=right[idx, final[perm]])
    compare_to_fixed_line(rows)
    for name, p in policies.items():
        if name in rows and rows[name].dynamic:
            p.update(rows[name].extra)
            p["control_top1"] = float(rows[f"random-{name}"].correct.mean())  # type: ignore[union-attr]


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
