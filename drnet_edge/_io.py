"""Small file helpers: atomic writes (a temporary file, then a rename), file hashing, output paths
checked before any work starts, and one-line reasons for ``torch.load`` failures."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import ConfigError


def atomic_write(path: str | Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp_path)`` then rename the temporary file onto ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write text atomically."""
    return atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))


def atomic_write_json(path: str | Path, obj: Any) -> Path:
    """Write JSON (indented, trailing newline) atomically."""
    return atomic_write_text(path, json.dumps(obj, indent=2) + "\n")


def sha256_file(path: str | Path) -> str:
    """The hex sha256 of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def cache_dir() -> Path:
    """drnet-edge's cache folder: ``$XDG_CACHE_HOME/drnet-edge``, else ``~/.cache/drnet-edge`` (not created)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "drnet-edge"


def link_or_copy(src: str | Path, dst: str | Path) -> None:
    """A hard link of ``src`` at ``dst``, or a copy where linking fails (another file system)."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def replace_dir(new: Path, out: Path) -> None:
    """Move ``new`` onto ``out``; an existing ``out`` is swapped out first and removed after."""
    if out.exists():
        old = out.with_name(f".{out.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(out, old)
        os.replace(new, out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(new, out)


def staging_dir(out: Path) -> Path:
    """An empty temporary directory next to ``out`` (same file system, so :func:`replace_dir` is a
    rename), readable like a normal output directory."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    tmp.chmod(0o755)
    return tmp


# -- output paths: checked before any work starts ---------------------------------------------------

PLOT_SUFFIXES = (".png", ".svg", ".pdf")


def _nearest_existing(path: Path) -> Path:
    """``path`` itself or its closest ancestor that exists (a file, when a path runs through one)."""
    p = path
    while not p.exists() and p != p.parent:
        p = p.parent
    return p


def _probe(folder: Path, flag: str, path: Path) -> None:
    """Create and remove a file in ``folder`` (``os.access`` says yes to root even on a read-only mount)."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=".drnet-edge-probe-", dir=folder)
    except OSError as exc:
        raise ConfigError(f"{flag} {path}: cannot write in {folder} ({exc.strerror or exc})") from None
    os.close(fd)
    os.unlink(tmp)


def check_writable(
    path: str | Path,
    flag: str,
    *,
    directory: bool = False,
    may_exist: bool = True,
    suffixes: tuple[str, ...] | None = None,
) -> Path:
    """Refuse an output path that cannot be written, before any work starts, with a one-line
    :class:`~drnet_edge.errors.ConfigError` naming ``flag`` and the path.

    ``directory``: the output is a folder (else a file); ``may_exist``: an existing one may be
    replaced; ``suffixes``: the accepted file types (e.g. :data:`PLOT_SUFFIXES`). Missing parent
    folders are fine (writers create them); the nearest existing one must be a folder we can write
    in, which is checked by creating and removing a probe file. Creates nothing.
    """
    p = Path(path)
    if suffixes is not None and p.suffix.lower() not in suffixes:
        got = f"'{p.suffix}'" if p.suffix else "no suffix"
        raise ConfigError(f"{flag} {p}: unsupported file type ({got}); use {', '.join(suffixes)}")
    if p.exists():
        if directory and not p.is_dir():
            raise ConfigError(f"{flag} {p} is a file; give a folder path")
        if not directory and p.is_dir():
            raise ConfigError(f"{flag} {p} is a folder; give a file path")
        if not may_exist:
            raise ConfigError(f"{flag} {p} already exists; choose a new path")
    anc = _nearest_existing(p.parent)
    if not anc.is_dir():
        raise ConfigError(f"{flag} {p}: {anc} is a file, not a folder")
    _probe(anc, flag, p)
    if directory and p.is_dir():
        _probe(p, flag, p)
    return p


def check_outputs(*outputs: tuple[str, str | Path | None]) -> None:
    """No two output flags may name the same file (the second would overwrite the first)."""
    seen: dict[str, str] = {}
    for flag, path in outputs:
        if path is None:
            continue
        key = os.path.abspath(path)
        if key in seen:
            raise ConfigError(f"{seen[key]} and {flag} both name {path}; give each output its own path")
        seen[key] = flag


# -- torch.load failures, in one line --------------------------------------------------------------

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_GLOBAL = re.compile(r"GLOBAL ([\w.]+)")


def strip_ansi(text: str) -> str:
    """``text`` without terminal colour codes."""
    return _ANSI.sub("", text)


def load_error_reason(exc: BaseException) -> str:
    """Why ``torch.load(..., weights_only=True)`` failed, in one line and without PyTorch's advice to
    retry with ``weights_only=False`` (unsafe for a file from elsewhere: it can run code)."""
    text = strip_ansi(str(exc))
    if "weights_only" in text or "Weights only load failed" in text or "WeightsUnpickler" in text:
        m = _GLOBAL.search(text)
        what = f" ({m.group(1)})" if m else ""
        return (
            f"it holds pickled Python objects{what}, not only tensors; drnet-edge loads tensors only and never "
            "runs code from a file: save a state dict (torch.save(model.state_dict(), PATH)) instead"
        )
    if isinstance(exc, EOFError):
        return "the file is empty or truncated"
    if isinstance(exc, RuntimeError) and ("zip" in text.lower() or "EOF" in text):
        return "the file is truncated or not a PyTorch file"
    return "not a PyTorch file (torch.load could not read it)"


# -- what a file is, from its first bytes: a wrong file given for a checkpoint or weights is named -----

_IMAGE_MAGIC = ((b"\xff\xd8\xff", "a JPEG image"), (b"\x89PNG\r\n\x1a\n", "a PNG image"), (b"GIF8", "a GIF image"),
                (b"BM", "a BMP image"))  # fmt: skip


def file_kind(path: str | Path) -> str | None:
    """What a file is by its first bytes, when it is a photo or a converted model (None otherwise):
    the one-line errors say that instead of guessing from a failed ``torch.load``."""
    try:
        with open(path, "rb") as f:
            head = f.read(64)
    except OSError:
        return None
    for magic, what in _IMAGE_MAGIC:
        if head.startswith(magic):
            return what
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "a WebP image"
    if head[4:8] == b"TFL3":
        return "a TFLite model (.tflite)"
    if head[4:6] == b"ET" and head[6:8].isdigit():
        return "an ExecuTorch program (.pte)"
    if head[:1] == b"\x08" and (b"pytorch" in head or b"onnx" in head or b"tf2onnx" in head):
        return "an ONNX model (.onnx)"
    return None


def wrong_file_note(path: str | Path, wanted: str) -> str | None:
    """A one-line reason when ``path`` is a photo or a converted model given where ``wanted`` (e.g. "a
    drnet-edge checkpoint") belongs, with what to do instead; None for any other file."""
    kind = file_kind(path)
    if kind is None:
        return None
    if kind.endswith("image"):
        return f"{path} is {kind}, not {wanted}: photos go to --data DIR (eval, calibrate) or to predict PHOTO"
    return (
        f"{path} is {kind}, not {wanted}: converted files run from their folder (the one with manifest.json that "
        "drnet-edge convert wrote): --artifacts DIR"
    )
