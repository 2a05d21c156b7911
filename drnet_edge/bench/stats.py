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
    if all(p.std_ms is not None for p in parts):
        second = sum(p.runs * (p.std_ms**2 + p.mean_ms**2) for p in parts) / n  # type: ignore[operator]
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
