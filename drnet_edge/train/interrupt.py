"""Ctrl-C during training: the first stops the run after the batch in hand, the second at once.

A training step can take 15-60 s on a CPU, and Python raises ``KeyboardInterrupt`` only between
bytecodes, so before this a Ctrl-C printed nothing for that long. While :func:`stop_after_batch` is
active (on the main thread of a single-process run) SIGINT is handled here: the first one prints
:data:`MESSAGE` on stderr at once and sets a flag, which the trainer checks after each batch
(:func:`check`) and turns into ``KeyboardInterrupt`` there, so the end-of-run message about what is on
disk still holds; a second one raises ``KeyboardInterrupt`` where the run is. The previous handler is
restored afterwards. Under torchrun (several processes) and where SIGINT is ignored (a background
job) nothing changes.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from types import FrameType

MESSAGE = "stopping after this batch; Ctrl-C again to stop now"

_state = {"requested": False}


def requested() -> bool:
    """Whether a first Ctrl-C asked the run to stop after the batch in hand."""
    return _state["requested"]


def check() -> None:
    """Raise ``KeyboardInterrupt`` when a first Ctrl-C asked the run to stop: called between batches."""
    if _state["requested"]:
        raise KeyboardInterrupt


def _say(line: str) -> None:
    """``line`` on stderr now: through ``sys.stderr`` (above a progress bar), else straight to fd 2."""
    try:
        print(line, file=sys.stderr, flush=True)
    except (RuntimeError, OSError, ValueError):  # a write to stderr was in progress when the signal came
        with contextlib.suppress(OSError):
            os.write(2, (line + "\n").encode())


def _handler(signum: int, frame: FrameType | None) -> None:
    if _state["requested"]:
        raise KeyboardInterrupt
    _state["requested"] = True
    _say(MESSAGE)


@contextlib.contextmanager
def stop_after_batch(enabled: bool = True) -> Iterator[None]:
    """While the block runs, the first Ctrl-C stops after the batch in hand (see the module's text);
    nothing changes when not ``enabled``, off the main thread, or where SIGINT is ignored."""
    previous = signal.getsignal(signal.SIGINT) if threading.current_thread() is threading.main_thread() else None
    install = enabled and previous is not None and previous is not signal.SIG_IGN
    _state["requested"] = False
    if install:
        signal.signal(signal.SIGINT, _handler)
    try:
        yield
        stop = _state["requested"]  # a Ctrl-C after the last check still stops the run
    finally:
        if install:
            signal.signal(signal.SIGINT, previous)
        _state["requested"] = False
    if stop:
        raise KeyboardInterrupt
