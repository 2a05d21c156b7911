"""Progress display: a rich bar on a terminal; off a terminal (a log file, ``nohup``, CI, a notebook)
plain lines every few percent with rate and ETA, so a long run is never silent."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

PLAIN_STEP = 0.05  # a line every 5% of the work ...
PLAIN_MIN_GAP_S = 10.0  # ... but not more often than this
PLAIN_FIRST_S = 30.0  # and a first line after this long even before 5% is done


def fmt_duration(seconds: float) -> str:
    """``75`` -> ``1m15s``; ``3725`` -> ``1h02m``."""
    s = int(round(max(seconds, 0)))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


def plain_line(description: str, done: int, total: int, elapsed: float) -> str:
    """One progress line: ``epoch 1 (joint): 12/60 (20%) 2.1 s each, 24s elapsed, ETA 1m57s`` (the
    rate as ``4.1/s`` when steps take under a second)."""
    rate = done / elapsed if elapsed > 0 else 0.0
    eta = fmt_duration((total - done) / rate) if rate > 0 else "?"
    pct = 100 * done / total if total else 100.0
    speed = f"{rate:.1f}/s" if rate >= 1 else (f"{1 / rate:.1f} s each" if rate > 0 else "no step done")
    left = "done" if done >= total else f"ETA {eta}"
    return f"{description}: {done}/{total} ({pct:.0f}%) {speed}, {fmt_duration(elapsed)} elapsed, {left}"


@contextmanager
def plain_progress(
    total: int, description: str, stream: TextIO | None = None, clock: Callable[[], float] = time.monotonic
) -> Iterator[Callable[[int], None]]:
    """Yield ``advance(n)`` that writes :func:`plain_line` to ``stream`` (default stderr) every
    :data:`PLAIN_STEP` of ``total`` (at most one line per :data:`PLAIN_MIN_GAP_S`), and a last line
    when the work took longer than that gap."""
    out = stream or sys.stderr
    start = clock()
    state = {"done": 0, "next": PLAIN_STEP * total, "last": start, "printed": False}

    def advance(n: int) -> None:
        state["done"] += n
        now = clock()
        due = state["done"] >= state["next"] or (not state["printed"] and now - start >= PLAIN_FIRST_S)
        if due and now - state["last"] >= PLAIN_MIN_GAP_S and state["done"] < total:
            print(plain_line(description, state["done"], total, now - start), file=out, flush=True)
            state["last"], state["printed"] = now, True
            state["next"] = (int(state["done"] / (PLAIN_STEP * total)) + 1) * PLAIN_STEP * total if total else 0

    yield advance
    elapsed = clock() - start
    if elapsed >= PLAIN_MIN_GAP_S:
        print(plain_line(description, state["done"], total, elapsed), file=out, flush=True)


@contextmanager
def progress_bar(total: int, description: str, enabled: bool = True) -> Iterator[Callable[[int], None]]:
    """Yield ``advance(n)``: a bar on stderr when it is a terminal, else :func:`plain_progress`
    lines on stderr; nothing when not ``enabled``."""
    if not enabled:
        yield lambda n: None
        return
    from rich.console import Console

    console = Console(stderr=True)
    if not console.is_terminal:
        with plain_progress(total, description) as advance:
            yield advance
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=False) as prog:
        task = prog.add_task(description, total=total)
        yield lambda n: prog.advance(task, n)
