from pathlib import Path

import pytest

from drnet_edge.data.classes import imagenet_classes, read_class_file
from drnet_edge.data.folders import sample_dir, scan_folder
from drnet_edge.errors import DataError

from .conftest import write_image


def test_imagenet_class_list_is_standard_order() -> None:
    cl = imagenet_classes()
    assert len(cl) == 1000
    assert cl.ids[0] == "n01440764" and cl.names[0] == "tench"
    assert cl.ids[999] == "n15075141"


def test_wnid_folders_map_through_imagenet_list_not_folder_order(wnid_folder: Path) -> None:
    ds = scan_folder(wnid_folder)
    labels = {p.parent.name: y for p, y in zip(ds.paths, ds.labels, strict=False)}
    assert labels == {"n01440764": 0, "n01443537": 1}
    assert "ImageNet-1k" in ds.note


def test_plain_folders_use_sorted_order_and_say_so(tiny_folder: Path) -> None:
    ds = scan_folder(tiny_folder)
    assert ds.classes is not None and ds.classes.ids == ("cat", "dog")
    assert "folder order" in ds.note
    assert sorted(set(ds.labels)) == [0, 1] and len(ds) == 6


def test_classes_file_sets_indices(tiny_folder: Path, tmp_path: Path) -> None:
    f = tmp_path / "classes.txt"
    f.write_text("dog Canis\ncat Felis\nbird\n")
    cl = read_class_file(f)
    ds = scan_folder(tiny_folder, classes=cl)
    assert {p.parent.name: y for p, y in zip(ds.paths, ds.labels, strict=False)} == {"dog": 0, "cat": 1}
    assert cl.names[0] == "Canis"


def test_limit_round_robins_over_classes(tiny_folder: Path) -> None:
    ds = scan_folder(tiny_folder, limit=2)
    assert sorted(ds.labels) == [0, 1]


def test_flat_folder_is_unlabelled(tmp_path: Path) -> None:
    for i in range(2):
        write_image(tmp_path / f"{i}.jpg")
    ds = scan_folder(tmp_path)
    assert ds.labels == [-1, -1] and not ds.labelled


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda r: r.mkdir(), "holds no images"),
        (lambda r: write_image(r / "n99999999" / "a.png"), "unknown wnid"),
        (
            lambda r: (write_image(r / "n01440764" / "a.png"), (r / "n01440764" / "notes.txt").write_text("x")),
            "not an image file",
        ),
        (lambda r: (write_image(r / "cat" / "a.png"), (r / "dog").mkdir()), "dog holds no images"),
        (lambda r: (write_image(r / "cat" / "a.png"), write_image(r / "b.png")), "mixes class folders"),
    ],
    ids=["empty", "unknown-wnid", "non-image", "empty-class", "mixed"],
)
def test_bad_folders_give_clear_errors(tmp_path: Path, make, message: str) -> None:
    root = tmp_path / "d"
    make(root)
    with pytest.raises(DataError, match=message):
        scan_folder(root)


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        scan_folder(tmp_path / "nope")


def test_folder_not_in_checkpoint_classes(tiny_folder: Path, tmp_path: Path) -> None:
    f = tmp_path / "c.txt"
    f.write_text("cat\n")
    with pytest.raises(DataError, match="dog is an unknown class"):
        scan_folder(tiny_folder, classes=read_class_file(f))


def test_bundled_sample_is_64_imagenet_photos() -> None:
    ds = scan_folder(sample_dir())
    assert len(ds) == 64 and len(set(ds.labels)) == 64
