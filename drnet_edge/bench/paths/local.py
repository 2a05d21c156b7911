"""The local path: the real runtimes on this machine (``--device local``; a board's own bench too).

The photos are decoded first (a folder with none readable is said before any runtime loads), the runtime
is imported and initialised outside every timed section (``runtime_init_ms``), the models are loaded
(resident memory measured), then :func:`~.local_runs.bench_local` times every model and every policy.
The report's ``warnings`` say when the machine was busy (other work on the cores, or medians no quiet
machine gives).
"""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path
from typing import TYPE_CHECKING

from ..options import BenchOptions
from .base import BenchPath, Measurement, register_path

if TYPE_CHECKING:
    from ...runtime.manifest import Manifest


@register_path
class LocalPath(BenchPath):
    name = "local"
    kind = "local"
    words = "--device local"
    kind_words = "this machine (--device local)"

    @classmethod
    def matches(cls, opts: BenchOptions) -> bool:
        return opts.device == "local"

    def measure(
        self, root: Path, manifest: Manifest, target: str, opts: BenchOptions, previous: dict | None
    ) -> Measurement:
        from ...data.classes import own_classes
        from ...data.folders import scan_folder
        from ...runtime.artifacts import ArtifactDRNet
        from ...runtime.source import ModelSource, open_model
        from ..meters.resident import current_rss_mb, local_resident
        from ..timing import impossible_latency_warning, load_warning
        from . import local_runs

        threads = opts.threads or min(4, cpu_count())
        # the photos first: a folder with none readable is said before any runtime loads (and logs)
        assert opts.data is not None  # run_bench fills in the bundled sample before a path measures
        folder = scan_folder(opts.data, classes=own_classes(manifest.classes), limit=opts.limit, subset=opts.subset)
        images, labels, bad = local_runs.decode_images(folder, opts.skip_bad, opts.progress)
        load_before = _others_busy()
        init_ms = local_runs.warm_runtime(root, manifest.target(target, root), threads)
        rss0, t0 = current_rss_mb(), time.perf_counter()
        art, _ = open_model(ModelSource(artifacts=root, runtime=target), threads=threads)  # the one door
        assert isinstance(art, ArtifactDRNet)  # converted files always open as ArtifactDRNet (load_ms, runner)
        load_all_ms, rss1 = 1e3 * (time.perf_counter() - t0), current_rss_mb()
        body = local_runs.bench_local(art, images, labels, opts)
        body["runtime_init_ms"] = init_ms
        rss = rss1 - rss0 if rss0 is not None and rss1 is not None else None
        body["resident"] = local_resident(load_all_ms, rss, art.load_ms, body["policies"], manifest.target(target))
        if opts.op_profile:
            body["op_profile"] = local_runs.local_op_profile(art, images[0], opts, threads)
        found = (load_warning(load_before, _others_busy(), os.cpu_count() or 1, threads),
                 impossible_latency_warning(body["policies"]))  # fmt: skip
        body["warnings"] = [w for w in found if w]
        return Measurement.from_body(body, device=local_device(), n=len(images), skipped_bad=bad, threads=threads)


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
    return (second[0] - first[0]) / (second[1] - first[1]) * cpu_count()


def cpu_count() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
