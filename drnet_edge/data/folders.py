"""Datasets: image folders mapped to a model's class indices by name, never by folder order alone.

* ImageNet-style folders (one folder per wnid, ``n01440764/...``) map to the standard
  ImageNet-1k indices through the class list shipped in the package.
* Any other folder-per-class dataset maps through an explicit class list (``--classes FILE``,
  or a checkpoint's class list), or failing that through sorted folder order (stated in the output).
* A flat folder of images is an unlabelled dataset.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

from ..errors import BadImageError, DataError
from .classes import WNID, ClassList, imagenet_classes
from .preprocess import IMAGE_EXTENSIONS, Preprocess, crop_and_resize, load_image


def sample_dir() -> Path:
    """The bundled sample images (64 ImageNet photos, one folder per wnid)."""
    return Path(str(resources.files("drnet_edge") / "resources" / "sample"))


@dataclass
class ImageFolder:
    """A scanned folder: image paths with labels (``-1`` when unlabelled) and the class list."""

    root: Path
    paths: list[Path]
    labels: list[int]
    classes: ClassList | None
    note: str = ""
    skipped: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.paths)

    @property
    def labelled(self) -> bool:
        return self.classes is not None


def is_image(p: Path) -> bool:
    """Whether ``p`` has an image file's suffix (:data:`~drnet_edge.data.preprocess.IMAGE_EXTENSIONS`)."""
    return p.suffix.lower() in IMAGE_EXTENSIONS


def _is_file(p: Path) -> bool:
    """A file, or a symbolic link to nothing: kept, so that it fails to read like any unreadable image
    (an error naming it, or skipped and counted with --skip-bad) instead of vanishing from the count."""
    return p.is_file() or (p.is_symlink() and not p.exists())


def _describe(classes: ClassList) -> str:
    """``the 10 classes of the checkpoint's class list``: the size said once, whatever the source says."""
    src = classes.source.replace(f" ({len(classes)} classes)", "")
    return f"the {len(classes)} classes of {src}"


def _visible(p: Path) -> bool:
    return not p.name.startswith(".")


def parse_subset(spec: str) -> tuple[str, int, int]:
    """``"train:0/5"`` -> ``("train", 0, 5)``: fold 0 of 5 held out; ``"test:0/5"`` keeps only it."""
    try:
        part, _, frac = spec.partition(":")
        k, n = (int(v) for v in frac.split("/"))
    except ValueError:
        raise DataError(f"--subset {spec!r}: expected train:K/N or test:K/N, e.g. test:0/5") from None
    if part not in ("train", "test") or not 0 <= k < n or n < 2:
        raise DataError(f"--subset {spec!r}: expected train:K/N or test:K/N with 0 <= K < N, N >= 2")
    return part, k, n


def hash_fold(key: str, n: int, salt: str = "") -> int:
    """Stable fold (0..n-1) of ``key``: the first 8 bytes of sha256(``salt`` + ``key``), mod ``n``.

    Every hash split in drnet-edge goes through here. Two splits hashed with the same salt and key are
    nested (a ``test:0/5`` subset would be one fold of any 5-fold split of it, 0/10 and 5/10 of a
    10-fold one), so splits that must be independent of each other use different salts: ``--subset``
    hashes with none (:func:`fold_of`), the calibration folds with
    :data:`drnet_edge.policy.crossfit.CALIBRATION_SALT`."""
    return int.from_bytes(hashlib.sha256((salt + key).encode()).digest()[:8], "big") % n


def fold_of(path: Path, root: Path, n: int) -> int:
    """Stable ``--subset`` fold (0..n-1) of a file, from a hash of its path relative to the data folder
    (no salt: the splits published with ``train:K/N`` / ``test:K/N`` stay as they were)."""
    return hash_fold(path.relative_to(root).as_posix(), n)


# Long because every folder mistake gets its own message here, before any model work.
def scan_folder(
    root: str | Path,
    *,
    classes: ClassList | None = None,
    limit: int | None = None,
    subset: str | None = None,
) -> ImageFolder:
    """Scan ``root`` into an :class:`ImageFolder`.

    ``classes`` (a checkpoint's or ``--classes`` list) maps folder names to indices; without
    it, wnid folders map through the ImageNet list and other folders through sorted order.
    ``limit`` keeps the first N images in a deterministic order spread over the classes.
    ``subset`` (``train:K/N`` or ``test:K/N``) splits files into N stable folds by a hash of
    their relative path: for hold-out evaluation and cross-validation without copying files.
    """
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"data folder {root} does not exist or is not a folder")
    entries = sorted(p for p in root.iterdir() if _visible(p))
    dirs = [p for p in entries if p.is_dir()]
    loose = [p for p in entries if _is_file(p) and is_image(p)]
    if dirs and loose:
        raise DataError(
            f"{root} mixes class folders with loose images ({loose[0].name}); "
            "put every image in a class folder, or point --data at a flat folder of images"
        )
    if not dirs:
        if not loose:
            raise DataError(f"{root} holds no images ({', '.join(IMAGE_EXTENSIONS)})")
        paths = _select(loose, root, subset)
        paths = paths[:limit] if limit else paths
        return ImageFolder(root, paths, [-1] * len(paths), None, note="unlabelled (flat folder)")

    if subset:
        parse_subset(subset)
    if classes is None:
        names = [d.name for d in dirs]
        if all(WNID.match(n) for n in names):
            classes = imagenet_classes()
        else:
            classes = ClassList(tuple(names), tuple(names), "folder order (sorted folder names)")
    index = classes.index()
    per_class: list[list[tuple[Path, int]]] = []
    for d in dirs:
        if d.name not in index:
            kind = "wnid" if WNID.match(d.name) else "class"
            raise DataError(
                f"folder {d} is an unknown {kind}: it is not one of {_describe(classes)}. "
                "Remove the folder or pass a matching --classes FILE."
            )
        files = sorted(p for p in d.rglob("*") if _is_file(p) and _visible(p))
        bad = [p for p in files if not is_image(p)]
        if bad:
            raise DataError(
                f"{bad[0]} is not an image file (expected one of {', '.join(IMAGE_EXTENSIONS)}); "
                "remove it from the data folder (--skip-bad skips only unreadable images, not other files)"
            )
        if not files:
            raise DataError(f"class folder {d} holds no images")
        files = _select(files, root, subset)
        if files:
            per_class.append([(p, index[d.name]) for p in files])
    if not per_class:
        raise DataError(f"{root}: subset {subset} selects no images")
    # Round-robin over classes so --limit N still spans many classes.
    ordered = [item for rnd in range(max(map(len, per_class))) for c in per_class if rnd < len(c) for item in [c[rnd]]]
    if limit:
        ordered = ordered[:limit]
    note = f"classes: {classes.source}" + (f"; subset {subset}" if subset else "")
    return ImageFolder(root, [p for p, _ in ordered], [y for _, y in ordered], classes, note=note)


def _select(files: list[Path], root: Path, subset: str | None) -> list[Path]:
    if not subset:
        return files
    part, k, n = parse_subset(subset)
    return [p for p in files if (fold_of(p, root, n) == k) == (part == "test")]


class MultiResolutionDataset:
    """Decodes each image once and yields its crops at every requested size (uint8 HWC)."""

    def __init__(self, folder: ImageFolder, sizes: list[int], pre: Preprocess, skip_bad: bool = False) -> None:
        self.folder, self.sizes, self.pre, self.skip_bad = folder, list(sizes), pre, skip_bad

    def __len__(self) -> int:
        return len(self.folder)

    def __getitem__(self, i: int) -> dict | None:
        path = self.folder.paths[i]
        try:
            img = load_image(path)
        except BadImageError:
            if self.skip_bad:
                return None
            raise
        return {"index": i, "crops": crop_and_resize(img, self.sizes, self.pre)}


def collate_multires(items: list[dict | None]) -> dict:
    """Stack crops per size; drop images that failed to decode (``None``) and report their indices."""
    good = [it for it in items if it is not None]
    out: dict = {"index": np.array([it["index"] for it in good], dtype=np.int64), "n_bad": len(items) - len(good)}
    if good:
        out["crops"] = {s: np.stack([it["crops"][s] for it in good]) for s in good[0]["crops"]}
    return out
