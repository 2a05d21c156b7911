"""Class lists: model-output order of class identifiers (ImageNet wnids or plain folder names).

Torch-free (the deploy side reads a manifest's class list through it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ..errors import DataError

WNID = re.compile(r"^n\d{8}$")


@dataclass(frozen=True)
class ClassList:
    """Class identifiers (folder names: wnids or plain names) in model-output order."""

    ids: tuple[str, ...]
    names: tuple[str, ...]
    source: str  # how the list was obtained, shown to the user

    def index(self) -> dict[str, int]:
        return {c: i for i, c in enumerate(self.ids)}

    def __len__(self) -> int:
        return len(self.ids)


def read_class_file(path: str | Path, source: str | None = None) -> ClassList:
    """Read ``id [display name]`` lines (the format of ImageNet's ``synsets.txt``)."""
    p = Path(path)
    if p.is_dir():
        raise DataError(f"class list {p} is a folder; give a text file with one 'id [name]' line per class")
    if not p.is_file():
        raise DataError(f"class list {p} does not exist")
    ids, names = [], []
    for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split(maxsplit=1)
        if parts[0] in ids:
            raise DataError(f"{p}:{n}: class {parts[0]!r} is listed twice")
        ids.append(parts[0])
        names.append(parts[1].strip() if len(parts) > 1 else parts[0])
    if not ids:
        raise DataError(f"class list {p} holds no classes")
    return ClassList(tuple(ids), tuple(names), source or f"class list {p}")


def imagenet_classes() -> ClassList:
    """The standard ImageNet-1k class list (wnids in model-output order), shipped in the package."""
    ref = resources.files("drnet_edge") / "resources" / "imagenet_synsets.txt"
    with resources.as_file(ref) as p:
        return read_class_file(p, source="ImageNet-1k class list (by wnid)")


def own_classes(classes: ClassList) -> ClassList | None:
    """``classes`` when they are a model's own, ``None`` when they are ImageNet's: what a folder of photos
    is scanned with (ImageNet folders may be named by wnid or not; own classes must match by name)."""
    return None if classes.ids == imagenet_classes().ids else classes
