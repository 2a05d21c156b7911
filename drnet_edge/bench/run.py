"""``run_bench``: one report shape for every device, whichever path measures::

    report = run_bench("out/artifacts", BenchOptions(device="local", runtime="tflite"))
    report["policies"]["drnet"]["latency_ms"], report["policies"]["drnet"]["latency_vs_ref"]

The local path is :mod:`drnet_edge.bench.local`, the Android ones :mod:`drnet_edge.bench.android_run`
and :mod:`drnet_edge.bench.app`; all take the same :class:`BenchOptions`.
"""

from __future__ import annotations

import json
import os
import platform
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from .._io import sha256_file
from ..errors import ConfigError
from .delegates import check_delegate
from .options import BenchOptions

if TYPE_CHECKING:
    from ..runtime.manifest import Manifest

FORMAT = "drnet-edge/bench"
VERSION = 1


def run_bench(artifacts: str | Path, opts: BenchOptions | None = None) -> dict:
    """Benchmark the artifacts on ``opts.device`` (``local``, a profile name, a serial or ``android``, or a
    board at ``ssh://[user@]host[:port]``, which runs the deploy side's local bench itself).

    With ``opts.app`` (Android only) the installed demo app measures the whole pipeline on the phone
    instead of the per-model tools. ``opts.resume`` (an earlier report of the same artifacts and
    device, marked incomplete) lets an interrupted Android run resume: models measured there are kept.
    """
    from ..data.folders import sample_dir
    from ..runtime.manifest import read_manifest

    opts = opts or BenchOptions()
    if opts.on_android:  # a board profile named as a phone: said before anything is read
        from .android import refuse_board_profile
        from .profiles import load_profiles

        refuse_board_profile(opts.device, load_profiles(opts.profiles))
    previous = read_previous(opts.resume) if opts.resume else None
    root = Path(artifacts)
    manifest = read_manifest(root)
    target = choose_runtime(manifest, opts.runtime, opts.device)
    check_delegate(opts.delegate, target)
    if opts.policies:  # against the manifest, before any model loads
        from .pipelines import default_policy, deployable_policies

        has_predictor = manifest.target(target).predictor is not None
        found = default_policy(manifest.policy_for(target), has_predictor)
        deployable_policies(opts.policies, manifest.resolutions, found[0] if found else None, has_predictor)
    opts = replace(opts, data=opts.data or sample_dir())
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    if opts.on_android:
        from .android_run import measure_android

        body, dev_info, n, bad, threads = measure_android(root, manifest, target, opts, previous)
    elif opts.kind == "ssh":
        from .board_run import measure_board

        body, dev_info, n, bad, threads = measure_board(root, manifest, target, opts, previous)
    else:
        body, dev_info, n, bad, threads = _measure_local(root, manifest, target, opts)
    report = {
        "format": FORMAT,
        "version": VERSION,
        "device": dev_info,
        "runtime": target,
        "precision": manifest.target(target).precision,
        "threads": threads,
        "backbone": manifest.backbone,
        "resolutions": manifest.resolutions,
        "artifacts": str(root),
        "artifacts_manifest_sha256": sha256_file(root / "manifest.json"),
        "data": str(opts.data),
        "subset": opts.subset,
        "n": n,
        "skipped_bad": bad,
        "runs": opts.runs,
        "warmup": opts.warmup,
        "started": started,
        "host": {"machine": platform.machine(), "python": platform.python_version()},
        **body,
    }
    report.setdefault("incomplete", None)
    report.setdefault("warnings", [])
    return with_ratios(report)


def _measure_local(root: Path, manifest: Manifest, target: str, opts: BenchOptions) -> tuple:
    """The real runtimes on this machine; returns (report body, device info, images, skipped files, threads).
    The runtime is imported and initialised first, outside every timed section (``runtime_init_ms``); the
    body's ``warnings`` say when the machine was busy (load average, or medians no quiet machine gives)."""
    from ..data.classes import own_classes
    from ..data.folders import scan_folder
    from ..runtime.artifacts import ArtifactDRNet
    from .local import bench_local, decode_images, local_device, local_op_profile, warm_runtime
    from .resident import current_rss_mb, local_resident
    from .timing import impossible_latency_warning, load_warning

    threads = opts.threads or min(4, _cpu_count())
    # the photos first: a folder with none readable is said before any runtime loads (and logs)
    folder = scan_folder(opts.data, classes=own_classes(manifest.classes), limit=opts.limit, subset=opts.subset)
    images, labels, bad = decode_images(folder, opts.skip_bad, opts.progress)
    load_before = _others_busy()
    init_ms = warm_runtime(root, manifest.target(target, root), threads)
    rss0, t0 = current_rss_mb(), time.perf_counter()
    art = ArtifactDRNet(root, target, threads=threads)
    load_all_ms, rss1 = 1e3 * (time.perf_counter() - t0), current_rss_mb()
    body = bench_local(art, images, labels, opts)
    body["runtime_init_ms"] = init_ms
    rss = rss1 - rss0 if rss0 is not None and rss1 is not None else None
    body["resident"] = local_resident(load_all_ms, rss, art.load_ms, body["policies"], manifest.target(target))
    if opts.op_profile:
        body["op_profile"] = local_op_profile(art, images[0], opts, threads)
    found = (load_warning(load_before, _others_busy(), os.cpu_count() or 1, threads),
             impossible_latency_warning(body["policies"]))  # fmt: skip
    body["warnings"] = [w for w in found if w]
    return body, local_device(), len(images), bad, threads


def _others_busy(window_s: float = 0.25) -> float | None:
    """How many cores other processes keep busy now: the CPU time the whole machine spent over
    ``window_s`` (from ``/proc/stat``) while this process waits, in cores. Not the load average: that
    remembers the last minute, so a bench run right after another heavy command would always look busy.
    Falls back to the 1-minute load average where ``/proc/stat`` is absent; ``None`` when neither is."""

    def sample() -> tuple[int, int] | None:
        try:
            fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        except (OSError, ValueError):
            return None
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
        return sum(fields[:8]) - idle, sum(fields[:8])

    first = sample()
    if first is None:
        try:
            return os.getloadavg()[0]
        except (AttributeError, OSError):
            return None
    time.sleep(window_s)
    second = sample()
    if second is None or second[1] == first[1]:
        return None
    return (second[0] - first[0]) / (second[1] - first[1]) * _cpu_count()


def choose_runtime(manifest: Manifest, runtime: str | None, device: str) -> str:
    """``runtime`` if the artifacts hold it; else tflite, else the first target they hold."""
    have = list(manifest.targets)
    if runtime:
        if runtime not in have:
            raise ConfigError(f"--runtime {runtime}: the artifacts hold {', '.join(have) or 'no models'}")
        return runtime
    for pref in ("tflite", "executorch", "onnx"):
        if pref in have and (device == "local" or device.startswith("ssh://") or pref != "onnx"):
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


def read_previous(path: Path) -> dict:
    """The report of an interrupted run (``--resume`` with its ``--json FILE``)."""
    if not path.is_file():
        raise ConfigError(f"--resume needs --json FILE from the interrupted run ({path}: no such file)")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ConfigError(f"--json {path}: not valid JSON ({exc}); drop --resume to start over") from None


def _cpu_count() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
