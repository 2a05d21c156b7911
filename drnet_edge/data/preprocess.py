"""Image preprocessing: one decode, one centre crop, then one resize per resolution.

The rule (identical in Python, in the converted-model runtime and in the Android app):

1. decode to RGB uint8 (OpenCV);
2. take the centred square whose side is ``crop_pct`` x the short side;
3. resize that square to ``R x R`` with OpenCV bicubic interpolation; when the
   square is more than twice ``R``, first shrink it by the integer factor
   ``k = ceil(side / 2R)`` with ``INTER_AREA`` (a k x k box average: OpenCV's fast
   integer path), after trimming ``side mod k`` pixels so ``k`` divides it, so large
   photos do not alias and the cost does not grow as ``R`` shrinks;
4. scale to 0..1, subtract ``mean``, divide by ``std``; NCHW for PyTorch. A model whose input is
   quantised (TFLite int8) gets the integer tensor straight from the pixels instead: one table
   lookup per byte (normalise and quantise folded into 256 entries per channel), no float buffer,
   values identical to normalising then quantising (:func:`to_model_input`).

This covers the same field of view as torchvision's "resize the short side to
R / crop_pct, centre-crop R", but needs only one crop for every resolution.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from ..errors import BadImageError, ConfigError

if TYPE_CHECKING:
    import torch

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")

_INTERPOLATIONS = {
    "cubic": cv2.INTER_CUBIC,
    "linear": cv2.INTER_LINEAR,
    "area": cv2.INTER_AREA,
    "nearest": cv2.INTER_NEAREST,
}


@dataclass(frozen=True)
class Preprocess:
    """How a backbone wants its input; travels with checkpoints and artifacts."""

    mean: tuple[float, float, float] = (0.485, 0.456, 0.406)
    std: tuple[float, float, float] = (0.229, 0.224, 0.225)
    crop_pct: float = 0.875
    interpolation: str = "cubic"

    def __post_init__(self) -> None:
        if self.interpolation not in _INTERPOLATIONS:
            raise ConfigError(f"interpolation {self.interpolation!r} is not one of {sorted(_INTERPOLATIONS)}")
        if not 0.0 < self.crop_pct <= 1.0:
            raise ConfigError(f"crop_pct must be in (0, 1], got {self.crop_pct}")

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form (for checkpoints and manifests)."""
        d = asdict(self)
        d["mean"], d["std"] = list(self.mean), list(self.std)
        d["resize_rule"] = (
            "center-crop crop_pct of short side; beyond 2R an integer area pre-shrink by ceil(side/2R); "
            "then resize to RxR"
        )
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Preprocess:
        """Inverse of :meth:`to_dict` (extra keys are ignored)."""
        return cls(
            mean=tuple(float(v) for v in d["mean"]),  # type: ignore[arg-type]
            std=tuple(float(v) for v in d["std"]),  # type: ignore[arg-type]
            crop_pct=float(d.get("crop_pct", 0.875)),
            interpolation=str(d.get("interpolation", "cubic")),
        )


def load_image(path: str | Path) -> np.ndarray:
    """Decode an image file to an RGB uint8 HWC array; raise :class:`BadImageError` if unreadable."""
    try:
        raw = np.fromfile(str(path), dtype=np.uint8)
    except OSError as exc:
        raise BadImageError(str(path), f"cannot be read ({exc.strerror})") from exc
    img = cv2.imdecode(raw, cv2.IMREAD_COLOR) if raw.size else None
    if img is None:
        raise BadImageError(str(path))
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def center_square(h: int, w: int, crop_pct: float) -> tuple[int, int, int]:
    """Top, left and side of the centred square of side ``round(crop_pct * short side)``."""
    side = max(1, int(round(min(h, w) * crop_pct)))
    return (h - side) // 2, (w - side) // 2, side


def center_crop_square(img: np.ndarray, crop_pct: float) -> np.ndarray:
    """The centred square of side ``round(crop_pct * short side)``."""
    h, w = img.shape[:2]
    top, left, side = center_square(h, w, crop_pct)
    return img[top : top + side, left : left + side]


def preshrink_factor(side: int, size: int) -> int:
    """The integer area pre-shrink factor for a square of ``side`` resized to ``size``: 1 (none) up to
    twice ``size``, else ``ceil(side / 2 size)``, which leaves between ``size`` and ``2 size`` pixels."""
    return 1 if side <= 2 * size else -(-side // (2 * size))


def preshrink(square: np.ndarray, size: int) -> np.ndarray:
    """Step 3's pre-shrink: trim the square's centre to a multiple of the factor ``k`` (under ``k``
    pixels), then a ``k x k`` box average (``INTER_AREA`` at an integer ratio: OpenCV's fast path)."""
    side = min(square.shape[:2])
    k = preshrink_factor(side, size)
    if k == 1:
        return square
    keep = side - side % k
    top, left = (square.shape[0] - keep) // 2, (square.shape[1] - keep) // 2
    square = square[top : top + keep, left : left + keep]
    return cv2.resize(square, (keep // k, keep // k), interpolation=cv2.INTER_AREA)


def resize_square(square: np.ndarray, size: int, interpolation: str = "cubic") -> np.ndarray:
    """Resize a square uint8 image to ``size x size`` (integer area pre-shrink beyond 2x, then
    ``interpolation``)."""
    return cv2.resize(preshrink(square, size), (size, size), interpolation=_INTERPOLATIONS[interpolation])


def crop_and_resize(img: np.ndarray, sizes: list[int] | tuple[int, ...], pre: Preprocess) -> dict[int, np.ndarray]:
    """One centre crop, then one resize per size: ``{size: uint8 HWC}``."""
    square = center_crop_square(img, pre.crop_pct)
    return {s: resize_square(square, s, pre.interpolation) for s in sizes}


def _normalise_lut(pre: Preprocess) -> np.ndarray:
    """(256, 1, 3) float32 for ``cv2.LUT``: each uint8 value of each channel normalised exactly as
    ``(v / 255 - mean) / std`` in float32, so the table lookup is bit-identical to that arithmetic."""
    key = (pre.mean, pre.std)
    if key not in _LUTS:
        v = np.arange(256, dtype=np.float32)[:, None] / np.float32(255.0)
        table = (v - np.asarray(pre.mean, dtype=np.float32)) / np.asarray(pre.std, dtype=np.float32)
        _LUTS[key] = np.ascontiguousarray(table.reshape(256, 1, 3))
    return _LUTS[key]


_LUTS: dict[tuple, np.ndarray] = {}


def to_array(batch: np.ndarray, pre: Preprocess) -> np.ndarray:
    """uint8 NHWC (or HWC) array -> normalised float32 NCHW array (C-contiguous).

    One ``cv2.LUT`` pass (uint8 -> normalised float32) and one transposing copy instead of a chain of
    float operations, with bit-identical values (tested)."""
    return _lut_nchw(batch, _normalise_lut(pre))


def _lut_nchw(batch: np.ndarray, lut: np.ndarray) -> np.ndarray:
    """uint8 NHWC (or HWC) -> ``lut`` applied per channel (one ``cv2.LUT`` pass), as a C-contiguous NCHW
    array of the table's dtype."""
    if batch.ndim == 3:
        batch = batch[None]
    n, h, w, c = batch.shape
    x = cv2.LUT(np.ascontiguousarray(batch).reshape(n * h, w, c), lut).reshape(n, h, w, c)
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2))


def input_lut(pre: Preprocess, scale: float, zero_point: int, dtype: str) -> np.ndarray:
    """(256, 1, 3) ``dtype`` table for ``cv2.LUT``: each uint8 value of each channel normalised, then
    quantised with ``(scale, zero_point)``, by the same float32 arithmetic as the two steps apart."""
    from ..runtime.int8_io import quantize

    key = (pre.mean, pre.std, float(scale), int(zero_point), dtype)
    if key not in _LUTS:
        _LUTS[key] = np.ascontiguousarray(quantize(_normalise_lut(pre), (scale, zero_point), np.dtype(dtype)))
    return _LUTS[key]


def to_model_input(batch: np.ndarray, pre: Preprocess, spec: dict[str, Any] | None = None) -> np.ndarray:
    """uint8 NHWC (or HWC) array -> what the model takes: ``spec`` (a manifest ``input`` entry) with a
    scale and an integer dtype gives that integer NCHW tensor from one table lookup; otherwise the
    normalised float32 NCHW array of :func:`to_array`."""
    if not spec or spec.get("scale") is None or np.dtype(spec["dtype"]).kind not in "iu":
        return to_array(batch, pre)
    return _lut_nchw(batch, input_lut(pre, spec["scale"], spec["zero_point"], spec["dtype"]))


def to_tensor(batch: np.ndarray, pre: Preprocess) -> torch.Tensor:
    """uint8 NHWC (or HWC) array -> normalised float32 NCHW tensor (contiguous: exporters bake the
    example's dim order in). The one function here that needs PyTorch (the build side's), imported here
    so the rest of the module runs without it."""
    import torch

    return torch.from_numpy(to_array(batch, pre))
