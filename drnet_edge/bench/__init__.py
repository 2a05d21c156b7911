"""``drnet-edge bench``: measured latency (and energy) of converted artifacts against fixed resolutions,
on this machine or on an Android phone over adb.

    report = run_bench("out/artifacts", device="local", runtime="tflite")
    report["policies"]["drnet"]["latency_ms"], report["policies"]["drnet"]["latency_vs_ref"]
"""

from __future__ import annotations

import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError

FORMAT = "drnet-edge/bench"
VERSION = 1


@dataclass(frozen=True)
class BenchOptions:
    """How to measure, whatever the device: what ``run_bench`` hands to the local and Android paths."""

    data_dir: Path
    limit: int | None = None
    subset: str | None = None
    threads: int | None = None
    runs: int = 50
    warmup: int = 5
    rounds: int = 3
    cooldown_s: float = 0.0
    energy: bool = False
    idle_s: float = 3.0
    profiles: str | Path | None = None
    benchmark_binary: Path | None = None
    skip_bad: bool = False
    app: bool = False
    app_timeout_s: float = 1800.0
    progress: bool = True
    log: Callable[[str], None] = lambda m: None


def choose_runtime(manifest: dict, runtime: str | None, device: str) -> str:
    """``runtime`` if the artifacts hold it; else tflite, else the first target they hold."""
    have = list(manifest["targets"])
    if runtime:
        if runtime not in have:
            raise ConfigError(f"--runtime {runtime}: the artifacts hold {', '.join(have) or 'no models'}")
        return runtime
    for pref in ("tflite", "executorch", "onnx"):
        if pref in have and (device == "local" or pref != "onnx"):
            return pref
    raise ConfigError(f"the artifacts hold no model that runs on {device} (they hold: {', '.join(have)})")


def with_ratios(report: dict) -> dict:
    """Add ``*_vs_ref`` ratios against ``fixed-<largest>`` (measured in the same run)."""
    ref_name = f"fixed-{max(report['resolutions'])}"
    ref = report["policies"].get(ref_name)
    report["reference"] = ref_name if ref else None
    for p in report["policies"].values():
        for key in ("latency_ms", "energy_mj", "macs_m"):
            base = ref.get(key) if ref else None
            p[key.rsplit("_", 1)[0] + "_vs_ref"] = p[key] / base if base and p.get(key) is not None else None
    return report


def run_bench(
    artifacts: str | Path,
    *,
    device: str = "local",
    runtime: str | None = None,
    data: str | Path | None = None,
    limit: int | None = None,
    subset: str | None = None,
    threads: int | None = None,
    runs: int = 50,
    warmup: int = 5,
    rounds: int = 3,
    cooldown_s: float = 0.0,
    energy: bool = False,
    idle_s: float = 3.0,
    profiles: str | Path | None = None,
    benchmark_binary: str | Path | None = None,
    skip_bad: bool = False,
    previous: dict | None = None,
    app: bool = False,
    app_timeout_s: float = 1800.0,
    progress: bool = True,
    log: Callable[[str], None] = lambda m: None,
) -> dict:
    """Benchmark the artifacts on ``device`` (``local``, a profile name, a serial or ``android``).

    With ``app`` (Android only) the installed demo app measures the whole pipeline on the phone
    instead of the per-model tools.

    ``previous`` (an earlier report of the same artifacts and device, marked incomplete) lets an
    interrupted Android run resume: models measured there are kept.
    """
    from ..convert import read_manifest
    from ..data import imagenet_classes, sample_dir, scan_folder

    if runs < 1 or warmup < 0 or rounds < 1:
        raise ConfigError("--runs and --rounds must be at least 1, --warmup at least 0")
    root = Path(artifacts)
    manifest = read_manifest(root)
    target = choose_runtime(manifest, runtime, device)
    data_dir = Path(data) if data else sample_dir()
    opts = BenchOptions(
        data_dir, limit=limit, subset=subset, threads=threads, runs=runs, warmup=warmup, rounds=rounds,
        cooldown_s=cooldown_s, energy=energy, idle_s=idle_s, profiles=profiles,
        benchmark_binary=Path(benchmark_binary) if benchmark_binary else None, skip_bad=skip_bad, app=app,
        app_timeout_s=app_timeout_s, progress=progress, log=log,
    )  # fmt: skip
    classes = None
    from ..runtime import ArtifactDRNet

    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    if app and device == "local":
        raise ConfigError("--app measures on a phone: pass --device PROFILE|SERIAL|android")
    if device == "local":
        from .local import bench_local, decode_images, local_device

        threads = threads or min(4, _cpu_count())
        art = ArtifactDRNet(root, target, threads=threads)
        if art.classes.ids != imagenet_classes().ids:
            classes = art.classes
        folder = scan_folder(data_dir, classes=classes, limit=limit, subset=subset)
        images, labels, bad = decode_images(folder, skip_bad, progress)
        body = bench_local(
            art, images, labels, runs=runs, warmup=warmup, energy=energy, idle_s=idle_s, progress=progress
        )
        dev_info = local_device()
        n = len(images)
    else:
        body, dev_info, n, bad, threads = _android(root, manifest, target, device, opts, previous)
    report = {
        "format": FORMAT,
        "version": VERSION,
        "device": dev_info,
        "runtime": target,
        "precision": manifest["targets"][target]["precision"],
        "threads": threads,
        "backbone": manifest["backbone"],
        "resolutions": manifest["resolutions"],
        "artifacts": str(root),
        "artifacts_manifest_sha256": _manifest_sha(root),
        "data": str(data_dir),
        "subset": subset,
        "n": n,
        "skipped_bad": bad,
        "runs": runs,
        "warmup": warmup,
        "started": started,
        "host": {"machine": platform.machine(), "python": platform.python_version()},
        **body,
    }
    report.setdefault("incomplete", None)
    return with_ratios(report)


def _cpu_count() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _manifest_sha(root: Path) -> str:
    from ..checkpoint import sha256_file

    return sha256_file(root / "manifest.json")


def _android(root: Path, manifest: dict, target: str, device: str, opts: BenchOptions, previous: dict | None) -> tuple:
    """Per-model times on the phone, then policies computed with the resolution mix and top-1 that
    the same artifacts give on the host for ``data_dir``."""
    from ..evaluate import evaluate
    from .adb import Adb
    from .android import android_device_info, bench_android, select_device
    from .profiles import load_profiles

    adb = Adb.find()
    dev, profile = select_device(adb, device, load_profiles(opts.profiles))
    adb = adb.bound(dev.serial)
    info = android_device_info(adb, dev, profile)
    if opts.app:
        return _android_app(adb, profile, manifest, target, info, opts)
    done = {}
    if previous and previous.get("device", {}).get("serial") == dev.serial and previous.get("runtime") == target:
        if previous.get("artifacts_manifest_sha256") == _manifest_sha(root):
            done = previous.get("models", {})
    body = bench_android(
        adb, dev, profile, root, manifest, target, threads=opts.threads, runs=opts.runs, warmup=opts.warmup,
        rounds=opts.rounds, cooldown_s=opts.cooldown_s, energy=opts.energy, idle_s=opts.idle_s,
        binary=opts.benchmark_binary, done=done, log=opts.log,
    )  # fmt: skip
    threads = body["tool"]["threads"]
    data_dir = opts.data_dir
    host = evaluate(
        data_dir, runtime=target, artifacts=root, policies="fixed,drnet", limit=opts.limit, subset=opts.subset,
        skip_bad=opts.skip_bad, progress=opts.progress,
    ).to_json()  # fmt: skip
    body["policies"] = computed_policies(host, body["models"], manifest["resolutions"])
    body["accuracy_source"] = (
        f"top-1 and the predictor's resolution mix from the same {target} files run on the host ({platform.machine()}) "
        f"over {host['n']} images of {data_dir}"
    )
    return body, info, host["n"], host["skipped_bad"]["files"], threads


def _android_app(adb, profile, manifest: dict, target: str, info: dict, opts: BenchOptions) -> tuple:  # noqa: ANN001
    """The demo app's own end-to-end measurement on the phone."""
    from ..data import imagenet_classes, scan_folder
    from .android import app_policies, bench_app

    if target != "tflite":
        raise ConfigError("--app runs the demo app, which uses the tflite models: pass --runtime tflite")
    ids = tuple(manifest["classes"]["ids"])
    classes = None
    if ids != imagenet_classes().ids:
        from ..data import ClassList

        classes = ClassList(ids, tuple(manifest["classes"]["names"]), "the artifacts' class list")
    folder = scan_folder(opts.data_dir, classes=classes, limit=opts.limit, subset=opts.subset)
    images = [
        (p, folder.classes.ids[y] if folder.classes and y >= 0 else None)
        for p, y in zip(folder.paths, folder.labels, strict=True)
    ]
    threads = opts.threads or profile.threads
    result = bench_app(
        adb, images, threads=threads, runs=opts.runs, warmup=opts.warmup, timeout_s=opts.app_timeout_s, log=opts.log
    )
    body = {
        "models": {},
        "stages_ms": result.get("stages_ms", {}),
        "policies": app_policies(result),
        "schedule": "the demo app's: every image runs every policy in turn (android_demo/README.md)",
        "tool": {"name": "demo app BenchActivity", "threads": threads},
        "energy": {"meter": None, "note": "not measured in --app mode", "reliable": None, "idle": None},
        "app": {k: result.get(k) for k in ("device", "n_images", "runs", "warmup", "precision", "source_model")},
        "incomplete": None,
    }
    return body, info, result.get("n_images", len(images)), [], threads


def computed_policies(host: dict, models: dict, resolutions: list[int]) -> dict:
    """On-device per-image figures from per-model measurements: ``fixed-R`` is backbone R's time;
    ``drnet`` is the predictor's plus each backbone's weighted by how often the predictor chose it."""
    out = {}
    for name, hp in host["policies"].items():
        share = {int(r): s for r, s in hp["resolution_share"].items()}
        parts = ([("predictor", 1.0)] if name == "drnet" else []) + [
            (f"backbone_{r}", s) for r, s in share.items() if s
        ]
        complete = all(m in models for m, _ in parts)
        lat = sum(w * models[m]["latency"]["mean_ms"] for m, w in parts) if complete else None
        energies = [models[m].get("energy_mj") for m, _ in parts] if complete else [None]
        energy = sum(w * models[m]["energy_mj"] for m, w in parts) if complete and None not in energies else None
        single = len(parts) == 1 and complete
        lat_stats = models[parts[0][0]]["latency"] if single else {}
        out[name] = {
            "top1": hp["top1"],
            "latency_ms": lat,
            "latency_p50_ms": lat_stats.get("p50_ms"),
            "latency_p90_ms": lat_stats.get("p90_ms"),
            "latency_p99_ms": lat_stats.get("p99_ms"),
            "latency_std_ms": lat_stats.get("std_ms"),
            "macs_m": hp["macs_m"],
            "resolution_share": hp["resolution_share"],
            "energy_mj": energy,
            "energy_note": None if energy is not None else "not measured (see energy.note)",
            "method": "computed: "
            + (
                "predictor time + sum over resolutions of (share chosen x backbone time), per-model times measured on "
                "the device"
                if name == "drnet"
                else "the backbone's time measured on the device"
            )
            + "; image resize not included (the demo app measures the whole pipeline)",
        }
        if not complete:
            out[name]["latency_note"] = "a model of this policy was not measured (run incomplete)"
    return out
