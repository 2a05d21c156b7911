"""Parsers for what the on-device tools print. Each takes the tool's full output and returns plain
values; each raises :class:`ToolOutputError` quoting the output's tail when it finds no result."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ...errors import DrnetEdgeError
from ..timing import LatencyStats, latency_stats


class ToolOutputError(DrnetEdgeError):
    """A benchmark tool ran but its output holds no result (it failed, or the format is unknown)."""

    def __init__(self, tool: str, output: str, why: str) -> None:
        tail = " | ".join(line.strip() for line in output.strip().splitlines()[-4:] if line.strip())
        super().__init__(f"{tool}: {why}. Last lines of its output: {tail or '(none)'}")


@dataclass
class ModelTiming:
    latency: LatencyStats
    init_ms: float | None = None
    first_ms: float | None = None  # benchmark_model's "First inference" time
    warmup_runs: int | None = None
    peak_memory_mb: float | None = None
    inferences: int = 0  # every inference the process ran (first, warm-up and timed), for energy
    memory_delta_mb: float | None = None  # the model's own memory: the tool's "overall" delta from its start


_NUM = r"([-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)"
_STAT = re.compile(
    r"count=(\d+)(?:\s+first=" + _NUM + r")?\s+curr=" + _NUM + r"(?:\(all same\))?"
    r"(?:\s+min=" + _NUM + r"\s+max=" + _NUM + r"\s+avg=" + _NUM + r"\s+std=" + _NUM + r")?"
    r"(?:\s+p5=" + _NUM + r"\s+median=" + _NUM + r"\s+p95=" + _NUM + r")?"  # newer builds
)
_TIMINGS = re.compile(
    r"Inference timings in us:\s*Init:\s*" + _NUM + r",\s*First inference:\s*" + _NUM
    + r",\s*Warmup \(avg\):\s*" + _NUM + r",\s*Inference \(avg\):\s*" + _NUM
)  # fmt: skip
_MEM_PEAK = re.compile(r"Overall peak memory footprint \(MB\) via periodic monitoring:\s*" + _NUM)
_MEM_OVERALL = re.compile(r"(?:Peak memory footprint|Memory footprint delta from the start of the tool) \(MB\):\s*init=" + _NUM + r"\s+overall=" + _NUM)  # fmt: skip


def _stat_lines(output: str) -> list[LatencyStats]:
    """One summary per ``count=`` line (the tool prints microseconds; these are milliseconds)."""
    out = []
    for m in _STAT.finditer(output):
        curr = float(m.group(3))
        mn, mx, avg, std, _, median, _ = (float(g) if g is not None else None for g in m.group(4, 5, 6, 7, 8, 9, 10))
        if avg is None:  # "(all same)" or a single run: every value is curr
            mn = mx = avg = curr
            std = 0.0
        ms = [None if v is None else v / 1e3 for v in (mn, mx, std, median)]
        out.append(
            LatencyStats(
                runs=int(m.group(1)), mean_ms=avg / 1e3, std_ms=ms[2], min_ms=ms[0], max_ms=ms[1], p50_ms=ms[3]
            )
        )
    return out


def parse_benchmark_model(output: str) -> ModelTiming:
    """LiteRT/TFLite ``benchmark_model``, older (plain) and newer (``INFO:``-prefixed) formats.

    The timed runs are the last ``count=`` line (the one before it is the warm-up). The tool prints
    count, first, curr, min, max, avg and std in microseconds (newer builds add p5, median, p95), not
    single runs, so p90 and p99 stay unknown.
    """
    if "Error" in output and not _TIMINGS.search(output) and not _stat_lines(output):
        raise ToolOutputError("benchmark_model", output, "the model did not run")
    stats = _stat_lines(output)
    t = _TIMINGS.search(output)
    if not stats and not t:
        raise ToolOutputError("benchmark_model", output, "no 'Inference timings' or 'count=' line found")
    init = first = None
    if t:
        init, first = float(t.group(1)) / 1e3, float(t.group(2)) / 1e3
    if stats:
        lat = stats[-1]
    else:
        assert t is not None
        lat = LatencyStats(runs=0, mean_ms=float(t.group(4)) / 1e3)
    warm = stats[-2].runs if len(stats) >= 2 else None
    mem = delta = None
    if m := _MEM_OVERALL.search(output):
        mem = delta = float(m.group(2))
    if m := _MEM_PEAK.search(output):
        mem = float(m.group(1))
    # the first inference is the first warm-up run, so it is already in the warm-up count
    inferences = lat.runs + (warm if warm is not None else (1 if first is not None else 0))
    return ModelTiming(lat, init, first, warm, mem, inferences, delta)


_ET_TOTAL = re.compile(r"Model executed successfully\s+(\d+)\s+time\(s\) in\s+" + _NUM + r"\s*ms")
_ET_ITER = re.compile(r"Iteration\s+(\d+)\s+of\s+(\d+):\s+" + _NUM + r"\s*ms")
_ET_LOAD = re.compile(r"Model loaded in\s+" + _NUM + r"\s*ms")


def parse_executor_runner(output: str, expected_runs: int | None = None) -> ModelTiming:
    """ExecuTorch ``executor_runner`` (stdout on Linux; logcat tag ``ExecuTorch`` on Android).

    ``Model executed successfully N time(s) in T ms.``: T is the total over the N runs. Newer
    builds also log ``Iteration i of N: t ms`` per run (then every statistic is known) and
    ``Model loaded in t ms``.
    """
    m = _ET_TOTAL.search(output)
    if not m:
        why = "no 'Model executed successfully N time(s) in T ms' line found"
        if "Model executed successfully" in output:
            why += " (this build prints no time: rebuild executor_runner from ExecuTorch >= 0.4)"
        elif "Output 0" in output:
            why += " (logging is compiled out: build with -DEXECUTORCH_ENABLE_LOGGING=ON)"
        raise ToolOutputError("executor_runner", output, why)
    n, total = int(m.group(1)), float(m.group(2))
    if n <= 0:
        raise ToolOutputError("executor_runner", output, "it reports zero executions")
    if expected_runs is not None and n != expected_runs:
        raise ToolOutputError("executor_runner", output, f"it ran {n} times, {expected_runs} were asked for")
    its = {int(i.group(1)): float(i.group(3)) for i in _ET_ITER.finditer(output)}
    if len(its) == n:
        lat = latency_stats([its[k] for k in sorted(its)])
    else:
        lat = LatencyStats(runs=n, mean_ms=total / n)
    load = _ET_LOAD.search(output)
    return ModelTiming(lat, init_ms=float(load.group(1)) if load else None, inferences=n)
