"""Latency statistics, one definition for every device and runtime."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np


@dataclass
class LatencyStats:
    """Milliseconds. Percentiles are ``None`` where only a summary was available (e.g. LiteRT's
    ``benchmark_model`` prints count, mean, std, min and max, not the single runs)."""

    runs: int
    mean_ms: float
    std_ms: float | None = None
    min_ms: float | None = None
    max_ms: float | None = None
    p50_ms: float | None = None
    p90_ms: float | None = None
    p99_ms: float | None = None

    def to_json(self) -> dict:
        return asdict(self)


def latency_stats(samples_ms: Sequence[float]) -> LatencyStats:
    """Summary of single-run times: mean, population std (ddof=0), min, max and linear-interpolated
    percentiles (numpy's default; the Android app's core module uses the same definitions)."""
    a = np.asarray(samples_ms, dtype=np.float64)
    if a.size == 0:
        raise ValueError("no latency samples")
    p50, p90, p99 = np.percentile(a, [50, 90, 99])
    return LatencyStats(
        runs=int(a.size),
        mean_ms=float(a.mean()),
        std_ms=float(a.std()),
        min_ms=float(a.min()),
        max_ms=float(a.max()),
        p50_ms=float(p50),
        p90_ms=float(p90),
        p99_ms=float(p99),
    )


def pool_stats(parts: Sequence[LatencyStats]) -> LatencyStats:
    """Combine summaries of disjoint groups of runs (e.g. interleaved rounds) exactly: weighted mean,
    pooled population std, overall min and max. Percentiles survive only from a single group."""
    parts = [p for p in parts if p.runs > 0]
    if not parts:
        raise ValueError("no latency summaries to pool")
    if len(parts) == 1:
        return parts[0]
    n = sum(p.runs for p in parts)
    mean = sum(p.runs * p.mean_ms for p in parts) / n
    std = None
    stds = [p.std_ms for p in parts if p.std_ms is not None]
    if len(stds) == len(parts):
        second = sum(p.runs * (s**2 + p.mean_ms**2) for p, s in zip(parts, stds, strict=True)) / n
        std = math.sqrt(max(0.0, second - mean**2))
    mins = [p.min_ms for p in parts if p.min_ms is not None]
    maxs = [p.max_ms for p in parts if p.max_ms is not None]
    return LatencyStats(
        runs=n,
        mean_ms=mean,
        std_ms=std,
        min_ms=min(mins) if len(mins) == len(parts) else None,
        max_ms=max(maxs) if len(maxs) == len(parts) else None,
    )


BUSY_SLACK = 0.75  # runnable tasks beyond the cores the bench leaves free before the machine counts as busy
IMPOSSIBLE_SHARE = 0.9  # a policy's median below this share of its lower bound: the machine was not quiet


def load_warning(before: float | None, after: float | None, cores: int, threads: int) -> str | None:
    """A warning when other work competed for the cores: ``before`` and ``after`` are the cores other
    processes kept busy just before and just after the run (see ``bench.run._others_busy``), above the
    cores the bench leaves free (plus slack)."""
    others = [x for x in (before, after) if x is not None]
    if not others or max(others) <= max(cores - threads, 0) + BUSY_SLACK:
        return None
    fmt = lambda x: "n/a" if x is None else f"{x:.1f}"  # noqa: E731
    return (
        f"the machine was busy (other work kept {fmt(before)} cores busy before the run, {fmt(after)} after; "
        f"{cores} cores, {threads} of them the bench's): latencies are inflated and comparisons unreliable; "
        "rerun on a quiet machine"
    )


def impossible_latency_warning(policies: dict[str, dict]) -> str | None:
    """In-run evidence of a busy machine: a policy whose median latency per image is below that of the
    cheapest fixed resolution, or of a resolution it runs on every image (a cascade's first stage),
    which no quiet machine allows (every pass costs at least what it costs alone)."""
    p50s = {n.removeprefix("fixed-"): p.get("latency_p50_ms") for n, p in policies.items() if n.startswith("fixed-")}
    fixed: dict[str, float] = {r: ms for r, ms in p50s.items() if ms}
    if not fixed:
        return None
    odd = []
    for name, p in policies.items():
        p50 = p.get("latency_p50_ms")
        if name.startswith("fixed-") or p50 is None:
            continue
        every = [r for r, share in (p.get("pass_share") or {}).items() if share >= 1.0 and r in fixed]
        bound = max([min(fixed, key=fixed.__getitem__), *every], key=fixed.__getitem__)
        if p50 < IMPOSSIBLE_SHARE * fixed[bound]:
            odd.append(f"{name} {p50:.2f} ms < fixed-{bound} {fixed[bound]:.2f} ms")
    if not odd:
        return None
    return (
        f"impossible medians, a sign of a busy machine: {'; '.join(odd)} (a policy cannot beat the resolutions it "
        "runs on every photo, nor the cheapest one); rerun on a quiet machine"
    )
