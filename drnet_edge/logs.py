"""Third-party output kept out of the console: what runtimes and converters print (absl/TFLite ``INFO``
lines, ExecuTorch's ``cpuinfo_utils.cpp`` lines, PyTorch log lines) goes to a log file instead.

Much of it comes from C++ and bypasses Python's ``sys.stderr``, so :func:`third_party_output` points
the process's file descriptors 1 and 2 at the log while the block runs. Python-level writes to
``sys.stdout``/``sys.stderr`` (bindings that forward C++ output there, loggers, ``print``) follow them
into the log, while rich consoles (the tool's tables, messages and progress bars) still find the
terminal: the streams are swapped for :class:`_Diverted` proxies whose ``rich_proxied_file`` is a copy
of the terminal descriptor.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from rich.file_proxy import FileProxy

# litert-torch prints a line per conversion stage on stdout unless this is "n"
_QUIET_ENV = {"LITERT_TORCH_SHOW_PROGRESS": "n"}


def log_path_next_to(output: str | Path | None, command: str) -> Path | None:
    """``<output stem>.<command>.log`` beside ``output`` when its folder exists; else ``None`` (a temp file)."""
    if output is None:
        return None
    out = Path(output)
    if not out.parent.is_dir():
        return None
    path = out.with_name(f"{out.stem}.{command}.log")
    return path if path != out else out.with_name(f"{out.name}.{command}.log")


class _Diverted(FileProxy):
    """``sys.stdout``/``sys.stderr`` while third-party output is diverted: writes go to ``sink`` (the
    original stream, whose descriptor now points at the log); rich consoles write to ``terminal`` (their
    ``rich_proxied_file``). Being a :class:`~rich.file_proxy.FileProxy` also keeps rich's live display
    (progress bars) from wrapping the stream again."""

    def __init__(self, sink: IO[str], terminal: IO[str]) -> None:  # noqa: D107  (no super(): nothing of it is used)
        self._sink, self._terminal = sink, terminal

    @property
    def rich_proxied_file(self) -> IO[str]:
        return self._terminal

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sink, name)

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self._sink.encoding

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return self._sink.errors

    def write(self, text: str) -> int:
        return self._sink.write(text)

    def flush(self) -> None:
        self._sink.flush()

    def fileno(self) -> int:
        return self._sink.fileno()

    def isatty(self) -> bool:
        return False


def _fileno(stream: IO[str] | None) -> int | None:
    try:
        return stream.fileno() if stream is not None else None
    except (AttributeError, OSError, ValueError):
        return None  # not a real file (a test runner's buffer): leave it alone


def _flush(*streams: IO[str] | None) -> None:
    for s in streams:
        with contextlib.suppress(Exception):
            if s is not None:
                s.flush()


@contextlib.contextmanager
def third_party_output(
    log: str | Path | None = None, *, enabled: bool = True, command: str = "run"
) -> Iterator[Path | None]:
    """While the block runs, send everything written to file descriptors 1 and 2 by anyone but the
    tool itself into ``log`` (a temporary file when ``None``); yields its path (``None`` when not
    ``enabled``, e.g. under ``--verbose``). An empty log is removed afterwards."""
    if not enabled:
        yield None
        return
    if log is None:
        fd, name = tempfile.mkstemp(prefix=f"drnet-edge-{command}-", suffix=".log")
        os.close(fd)
        path = Path(name)
    else:
        path = Path(log)
    _flush(sys.stdout, sys.stderr)
    sink = open(path, "ab")  # noqa: SIM115  (closed in the finally below)
    saved = {fd: os.dup(fd) for fd in (1, 2)}
    swapped: dict[str, IO[str]] = {}
    env = {k: os.environ.get(k) for k in _QUIET_ENV}
    try:
        for fd, name in ((1, "stdout"), (2, "stderr")):
            stream = getattr(sys, name)
            if _fileno(stream) == fd:
                term = open(  # noqa: SIM115  (closed in the finally below)
                    os.dup(saved[fd]),
                    "w",
                    buffering=1,
                    encoding=getattr(stream, "encoding", None) or "utf-8",
                    errors=getattr(stream, "errors", None) or "replace",
                )
                swapped[name] = stream
                setattr(sys, name, _Diverted(stream, term))
            os.dup2(sink.fileno(), fd)
        for k, v in _QUIET_ENV.items():
            if env[k] is None:
                os.environ[k] = v
        yield path
    finally:
        for name, original in swapped.items():
            proxy = getattr(sys, name)
            term = proxy._terminal if isinstance(proxy, _Diverted) else None
            _flush(term, original)  # the original's buffer still points at the log
            setattr(sys, name, original)
            if term is not None:
                term.close()
        _flush(sys.stdout, sys.stderr)
        for fd, copy in saved.items():
            os.dup2(copy, fd)
            os.close(copy)
        sink.close()
        for k, v in env.items():
            if v is None:
                os.environ.pop(k, None)
        with contextlib.suppress(OSError):
            if path.stat().st_size == 0:
                path.unlink()
