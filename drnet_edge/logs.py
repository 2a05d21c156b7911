"""Third-party output kept out of the console: what runtimes and converters print (absl/TFLite ``INFO``
lines, ExecuTorch's ``cpuinfo_utils.cpp`` lines, PyTorch log lines) goes to a log file instead.

Much of it comes from C++ and bypasses Python's ``sys.stderr``, so :func:`third_party_output` points
the process's file descriptors 1 and 2 at the log while the block runs. Python-level writes to
``sys.stdout``/``sys.stderr`` (bindings that forward C++ output there, loggers, ``print``) follow them
into the log, while rich consoles (the tool's tables, messages and progress bars) still find the
terminal: the streams are swapped for :class:`_Diverted` proxies whose ``rich_proxied_file`` is a copy
of the terminal descriptor.

The logs live in drnet-edge's cache folder (``$XDG_CACHE_HOME/drnet-edge/logs``, else
``~/.cache/drnet-edge/logs``), one per command run (``<command>-<time>-<random>.log``), and only the
newest :data:`KEEP` are kept: the runtimes write on every load, so every run leaves one. The CLI names a
log only when the run failed or the log holds a warning or an error line (:func:`has_warning`).
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from rich.file_proxy import FileProxy

# litert-torch prints a line per conversion stage on stdout unless this is "n"
_QUIET_ENV = {"LITERT_TORCH_SHOW_PROGRESS": "n"}


KEEP = 10  # logs kept in the folder; older ones are removed when a run ends

# a line a runtime, converter or library writes when something is wrong: ``WARNING: ...``, ``Error: ...``,
# glog's ``W1207 02:03:56.68 ...`` (absl, torch), ExecuTorch's ``W 00:00:00.123 ...``, Python's
# ``...: UserWarning: ...`` and ``RuntimeError: ...``, a traceback
_WARNING = re.compile(
    r"^\s*(?:(?i:warning|warn|error|fatal|critical)\b|[WEF]\d{4} \d|[WEF] \d\d:\d\d:|Traceback \(most recent)"
    r"|\b[A-Za-z]*(?:Warning|Error|Exception):"
)
# ... but not what is written on every run and says nothing about this one: absl's note that it logs to
# stderr, and notices to developers that an API is deprecated
_NOT_A_WARNING = re.compile(r"All log messages before absl::InitializeLog\(\) is called|(?i:deprecat)|FutureWarning")


def logs_dir() -> Path:
    """Where the third-party logs go: ``logs`` in drnet-edge's cache folder (not created here)."""
    from ._io import cache_dir

    return cache_dir() / "logs"


def new_log(command: str, folder: Path | None = None) -> tuple[Path, list[Path]]:
    """A new, empty ``<command>-<time>-<random>.log`` in ``folder`` (default :func:`logs_dir`, created),
    and the folders created for it (deepest first); in the temporary folder when that cannot be written."""
    folder = folder or logs_dir()
    prefix = f"{command}-{time.strftime('%Y%m%d-%H%M%S')}-"
    created = [d for d in (folder, *folder.parents) if not d.exists()]
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=prefix, suffix=".log", dir=folder)
    except OSError:  # a read-only home: the temporary folder, as before
        fd, name = tempfile.mkstemp(prefix=f"drnet-edge-{prefix}", suffix=".log")
        created = []
    os.close(fd)
    return Path(name), created


def prune_logs(folder: Path, keep: int = KEEP, pattern: str = "*.log") -> None:
    """Remove all but the newest ``keep`` files named ``pattern`` in ``folder``."""
    logs = []
    for p in folder.glob(pattern):
        with contextlib.suppress(OSError):
            logs.append((p.stat().st_mtime, p.name, p))
    for *_, p in sorted(logs, reverse=True)[keep:]:
        with contextlib.suppress(OSError):
            p.unlink()


def has_warning(log: Path, limit: int = 4 << 20) -> bool:
    """Whether ``log`` holds a warning or error line (the first ``limit`` bytes are read)."""
    try:
        with open(log, encoding="utf-8", errors="replace") as f:
            text = f.read(limit)
    except OSError:
        return False
    return any(_WARNING.search(ln) and not _NOT_A_WARNING.search(ln) for ln in text.splitlines())


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
    tool itself into ``log`` (by default a new one in :func:`logs_dir`, of which only the newest
    :data:`KEEP` are kept); yields its path (``None`` when not ``enabled``, e.g. under ``--verbose``). An
    empty log is removed afterwards."""
    if not enabled:
        yield None
        return
    path, created = (Path(log), []) if log is not None else new_log(command)
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
        for folder in created:  # nothing was logged: no folder left behind either
            with contextlib.suppress(OSError):
                folder.rmdir()
        if log is None:  # the default folder, or the temporary one's drnet-edge logs where it was not writable
            prune_logs(path.parent, pattern="*.log" if path.parent == logs_dir() else "drnet-edge-*.log")
