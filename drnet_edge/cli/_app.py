"""The ``drnet-edge`` Typer app, its consoles, and the one place errors become messages and exit codes.

Exit codes: 0 done; 2 a problem with the input or the environment, said in one line; 3 ``bench``: the
run is incomplete (results so far saved); 70 an unexpected error (a bug: one line, and ``--verbose``
shows the traceback); 130 interrupted.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import click
import typer
from rich.console import Console
from rich.markup import escape
from typer.exceptions import TyperException

from .._io import PLOT_SUFFIXES, check_outputs, check_writable, load_error_reason, strip_ansi
from ..errors import CheckpointError, ConfigError, DrnetEdgeError, WeightsError

INTERNAL_ERROR = 70  # sysexits' EX_SOFTWARE: not the user's input, a bug

app = typer.Typer(
    name="drnet-edge",
    help="Dynamic-resolution networks from PyTorch to measured inference on edge devices.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# Wide enough for the tables when piped to a file or a CI log.
console = Console(width=None if sys.stdout.isatty() else 140)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 140)


@dataclass
class _State:
    verbose: bool = False


state = _State()


@app.callback()
def _global_options(
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose",
            envvar="DRNET_EDGE_VERBOSE",
            help="Show the traceback of an unexpected error, and third-party log lines (TFLite, ExecuTorch, "
            "PyTorch warnings) on the console instead of in a log file. Give it before the command.",
        ),
    ] = False,
) -> None:
    """Dynamic-resolution networks from PyTorch to measured inference on edge devices."""
    state.verbose = verbose
    if not verbose:
        quiet_python_logs()


def quiet_python_logs() -> None:
    """Third-party Python warnings and INFO logs stay off the console (``--verbose`` shows them)."""
    warnings.filterwarnings("ignore")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    for name in ("absl", "tensorflow", "torch", "executorch", "onnx2tf", "matplotlib"):
        logging.getLogger(name).setLevel(logging.ERROR)


def one_line(exc: BaseException) -> str:
    """An error's message on one line: no colour codes, and a ``torch.load`` failure quoted inside it
    replaced by its short reason (without PyTorch's advice to load untrusted files unsafely)."""
    text = str(exc)
    cause = exc.__cause__
    if isinstance(exc, (WeightsError, CheckpointError)) and cause is not None and not isinstance(cause, DrnetEdgeError):
        raw = str(cause)
        if raw and text.endswith(raw):
            text = text[: -len(raw)] + load_error_reason(cause)  # the reason torch.load gave, said briefly
        elif not raw and text.rstrip().endswith(":"):
            text = f"{text.rstrip()} {load_error_reason(cause)}"
    text = strip_ansi(text)
    return re.sub(r"\s*\n\s*", " ", text).strip()


def error(message: str) -> None:
    """Print ``error: message`` (taken literally: a path with brackets is not markup) on stderr."""
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)


# What a deploy-side install (``pip install drnet-edge``) leaves out: PyTorch and the model code on it.
BUILD_SIDE_PACKAGES = ("torch", "torchvision", "timm")


def build_side_missing(package: str, command: str) -> str:
    """The one line for a build-side command run on a deploy-side install (no PyTorch)."""
    return (
        f"drnet-edge {command} needs PyTorch ({package} is not installed: this is a deploy-side install); "
        "pip install 'drnet-edge[build]' adds it. Without it: predict, bench, and eval or calibrate "
        "with --artifacts run converted files"
    )


def friendly(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn library errors (and Ctrl-C) into a one-line message and exit code 2 (130); any other
    exception into one line and exit code 70, with the traceback under ``--verbose``."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except DrnetEdgeError as exc:
            error(one_line(exc))
            raise typer.Exit(2) from None
        except KeyboardInterrupt:
            err.print("[yellow]interrupted[/]")
            raise typer.Exit(130) from None
        except (typer.Exit, typer.Abort, TyperException, click.exceptions.Exit, click.ClickException):
            raise  # exit codes and usage errors the CLI layer means
        except ModuleNotFoundError as exc:
            if exc.name is None or exc.name.split(".")[0] not in BUILD_SIDE_PACKAGES or state.verbose:
                raise
            error(build_side_missing(exc.name, fn.__name__.removesuffix("_cmd")))
            raise typer.Exit(2) from None
        except OSError as exc:
            if state.verbose:
                raise
            where = f"{exc.filename}: " if exc.filename else ""
            error(f"{where}{exc.strerror or one_line(exc)} (drnet-edge --verbose ... shows the traceback)")
            raise typer.Exit(2) from None
        except Exception as exc:
            if state.verbose:
                raise
            error(
                f"unexpected {type(exc).__name__}: {one_line(exc)[:300]}. This is a bug in drnet-edge, not your "
                "input: run again as drnet-edge --verbose ... for the traceback, and report it"
            )
            raise typer.Exit(INTERNAL_ERROR) from None

    return wrapper


def _existing_file(value: Path | None, flag: str) -> Path | None:
    if value is not None and value.is_dir():
        raise DrnetEdgeError(f"{flag} {value} is a folder; give a file")
    if value is not None and not value.is_file():
        raise DrnetEdgeError(f"{flag} {value}: no such file")
    return value


def check_output_paths(
    *, files: tuple[tuple[str, Path | None], ...] = (), plots: tuple[tuple[str, Path | None], ...] = ()
) -> None:
    """Every output path checked (type, suffix, writable) before any work starts."""
    check_outputs(*files, *plots)
    for flag, path in files:
        if path is not None:
            check_writable(path, flag)
    for flag, path in plots:
        if path is not None:
            check_writable(path, flag, suffixes=PLOT_SUFFIXES)


def check_runtime(runtime: str | None) -> None:
    """``--runtime`` must name a runtime (``all`` is a convert target, not a runtime)."""
    if runtime is None:
        return
    from drnet_edge.converters import list_targets

    names = [t for t in list_targets() if t != "all"]
    if runtime not in names:
        raise ConfigError(f"--runtime {runtime}: unknown runtime; choose from {', '.join(names)}")


def save_output(flag: str, path: Path | None, write: Callable[[Path], object], label: str) -> bool:
    """Write one output at the end of a command. A failure (disk full, say) leaves no partial file
    (the writers are atomic) and is said in one line; returns False then so the command exits 2."""
    if path is None:
        return True
    try:
        write(path)
    except OSError as exc:
        error(f"{flag} {path} was not written ({exc.strerror or exc}); the results above are complete")
        return False
    console.print(f"{label}: {path}", highlight=False)
    return True


def save_plot_output(
    flag: str, path: Path | None, report: dict, write: Callable[[Path, dict], object], x_key: str
) -> bool:
    """:func:`save_output` for a chart, or one line saying why there is nothing to plot."""
    from ..plots import plot_skip_reason

    if path is None:
        return True
    reason = plot_skip_reason(report, x_key)
    if reason:
        err.print(f"[yellow]{flag}[/]: not written: {escape(reason)}", highlight=False, soft_wrap=True)
        return True
    return save_output(flag, path, lambda p: write(p, report), "plot")


@contextmanager
def quiet_runtimes(output: Path | None, command: str) -> Iterator[None]:
    """Runtime and converter log lines (C++ included) into a log in drnet-edge's cache folder (the newest
    few are kept) instead of the console, unless ``--verbose``. The log's path is shown only when it holds
    a warning or an error line, or the command failed unexpectedly (not a one-line ``DrnetEdgeError``, which
    says all there is, nor Ctrl-C): the runtimes write on every load, so a log alone means nothing.
    (``output``, the command's main output, is no longer used: the log used to go beside it.)"""
    from ..logs import has_warning, third_party_output

    log: Path | None = None
    failed = False
    try:
        with third_party_output(enabled=not state.verbose, command=command) as log:
            yield
    except DrnetEdgeError:
        raise
    except Exception:
        failed = True
        raise
    finally:
        if log is not None and log.exists() and (failed or has_warning(log)):
            why = "" if failed else ", warnings among them"
            err.print(f"[dim]runtime and converter messages{why}: {escape(str(log))} (--verbose shows them here)[/]")
