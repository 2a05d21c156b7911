import numpy as np
import pytest
import torch

from drnet_edge.data.preprocess import (
    Preprocess,
    center_crop_square,
    crop_and_resize,
    load_image,
    preshrink,
    preshrink_factor,
    resize_square,
    to_tensor,
)
from drnet_edge.errors import BadImageError, ConfigError

from .conftest import write_image


def test_center_crop_is_centred_square_of_crop_pct() -> None:
    img = np.zeros((100, 200, 3), np.uint8)
    img[:, 100:] = 255
    sq = center_crop_square(img, 0.8)
    assert sq.shape == (80, 80, 3)
    assert sq[:, :40].max() == 0 and sq[:, 40:].min() == 255  # the split sits in the middle


@pytest.mark.parametrize("size", [224, 96, 31])
def test_resize_square_sizes(size: int) -> None:
    sq = np.random.default_rng(0).integers(0, 255, (280, 280, 3), dtype=np.uint8)
    assert resize_square(sq, size).shape == (size, size, 3)


@pytest.mark.parametrize(
    ("side", "size", "factor"), [(256, 128, 1), (257, 128, 2), (280, 128, 2), (385, 64, 4), (384, 64, 3), (90, 224, 1)]
)
def test_preshrink_is_an_integer_box_average(side: int, size: int, factor: int) -> None:
    """Beyond twice the size: trim the centre to a multiple of k, then a k x k box average, which leaves
    between size and 2 size pixels (so the cost falls with the resolution, unlike an area resize to 2R)."""
    assert preshrink_factor(side, size) == factor
    sq = np.random.default_rng(side).integers(0, 256, (side, side, 3), dtype=np.uint8)
    out = preshrink(sq, size)
    if factor == 1:
        assert out is sq
        return
    keep = side - side % factor
    assert out.shape == (keep // factor, keep // factor, 3) and size <= keep // factor <= 2 * size
    o = (side - keep) // 2
    blocks = sq[o : o + keep, o : o + keep].reshape(keep // factor, factor, keep // factor, factor, 3)
    np.testing.assert_allclose(out, blocks.mean(axis=(1, 3)), atol=0.51)  # OpenCV rounds the mean


def test_crop_and_resize_one_crop_many_sizes() -> None:
    img = np.random.default_rng(1).integers(0, 255, (320, 400, 3), dtype=np.uint8)
    out = crop_and_resize(img, [224, 128], Preprocess())
    assert {k: v.shape for k, v in out.items()} == {224: (224, 224, 3), 128: (128, 128, 3)}


def test_to_tensor_normalises_nchw() -> None:
    pre = Preprocess(mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5))
    x = to_tensor(np.full((2, 4, 4, 3), 255, np.uint8), pre)
    assert x.shape == (2, 3, 4, 4) and torch.allclose(x, torch.ones_like(x))


def test_preprocess_roundtrip_and_validation() -> None:
    pre = Preprocess(mean=(0.1, 0.2, 0.3), crop_pct=0.9, interpolation="area")
    assert Preprocess.from_dict(pre.to_dict()) == pre
    with pytest.raises(ConfigError, match="interpolation"):
        Preprocess(interpolation="lanczos9")
    with pytest.raises(ConfigError, match="crop_pct"):
        Preprocess(crop_pct=0)


def test_load_image_rgb_and_bad_file(tmp_path) -> None:
    p = write_image(tmp_path / "a.png", size=(5, 7))
    assert load_image(p).shape == (5, 7, 3)
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not a jpeg at all")
    with pytest.raises(BadImageError, match="bad.jpg.*--skip-bad"):
        load_image(bad)
    with pytest.raises(BadImageError, match="cannot be read"):
        load_image(tmp_path / "missing.jpg")


@pytest.mark.parametrize("shape", [(5, 7, 3), (3, 16, 9, 3)])
def test_to_array_is_the_float_arithmetic_bit_for_bit(shape: tuple[int, ...]) -> None:
    import numpy as np

    from drnet_edge.data.preprocess import Preprocess, to_array

    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=shape, dtype=np.uint8)
    for pre in (Preprocess(), Preprocess(mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5))):
        b = x[None] if x.ndim == 3 else x
        ref = (
            b.astype(np.float32).transpose(0, 3, 1, 2) / np.float32(255.0)
            - np.asarray(pre.mean, np.float32).reshape(1, 3, 1, 1)
        ) / np.asarray(pre.std, np.float32).reshape(1, 3, 1, 1)
        out = to_array(x, pre)
        assert out.dtype == np.float32 and out.flags["C_CONTIGUOUS"] and np.array_equal(out, ref)


@pytest.mark.parametrize("dtype, zero_point", [("int8", 0), ("int8", -1), ("uint8", 128)])
def test_to_model_input_is_normalise_then_quantise_bit_for_bit(dtype: str, zero_point: int) -> None:
    """An int8/uint8 input from one table lookup equals quantising the normalised float tensor; a float (or
    missing) input spec gives the float tensor."""
    import numpy as np

    from drnet_edge.data.preprocess import Preprocess, to_array, to_model_input
    from drnet_edge.runtime.int8_io import quantize

    x = np.random.default_rng(1).integers(0, 256, size=(2, 9, 9, 3), dtype=np.uint8)
    for pre in (Preprocess(), Preprocess(mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5))):
        spec = {"shape": [1, 3, 9, 9], "dtype": dtype, "scale": 0.0123, "zero_point": zero_point}
        q = to_model_input(x, pre, spec)
        assert q.dtype == np.dtype(dtype) and q.shape == (2, 3, 9, 9) and q.flags["C_CONTIGUOUS"]
        assert np.array_equal(q, quantize(to_array(x, pre), (0.0123, zero_point), np.dtype(dtype)))
        assert np.array_equal(to_model_input(x[0], pre, spec), q[:1])
        for float_spec in (None, {"dtype": "float32", "scale": None, "zero_point": None}):
            assert np.array_equal(to_model_input(x, pre, float_spec), to_array(x, pre))
