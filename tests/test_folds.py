"""Calibration folds are independent of ``--subset`` splits (#30): a ``test:K/N`` subset spreads over every
out-of-fold fold, ``calibrate --subset test:0/5`` runs, and an empty fold is refused in one line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from drnet_edge.data.folders import scan_folder
from drnet_edge.errors import ConfigError
from drnet_edge.policy.crossfit import CROSSFIT_SALT, fold_ids, out_of_fold, within_fold_permutation
from drnet_edge.policy.registry import Predictions
from drnet_edge.policy.selection import select_policy

from .conftest import CLASSES, run_cli, write_image

RES = [224, 128]
MACS = {224: 400, 128: 100}


def outcomes(paths: list[str], seed: int = 0) -> Predictions:
    """Outcomes for ``paths``: 224 always right, 128 right when confident."""
    rng = np.random.default_rng(seed)
    n = len(paths)
    labels = rng.integers(0, 3, n)
    conf = rng.uniform(0.2, 1.0, (n, 2))
    top1 = labels[:, None].repeat(2, 1)
    top1[:, 1][conf[:, 1] < 0.5] = (labels[conf[:, 1] < 0.5] + 1) % 3
    return Predictions(RES, labels, top1, conf, list(paths))


@pytest.fixture(scope="module")
def named_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2,000 (empty) image files in 10 class folders: ``--subset`` splits by path, reading no pixels."""
    root = tmp_path_factory.mktemp("named")
    for c in range(10):
        (root / f"class{c}").mkdir()
        for i in range(200):
            (root / f"class{c}" / f"img_{c}_{i:04d}.jpg").touch()
    return root


@pytest.mark.parametrize("n", [2, 3, 5, 10])
def test_a_subset_spreads_over_every_calibration_fold(named_folder: Path, n: int) -> None:
    """The photos of ``test:K/N`` fill every one of ``k`` calibration folds about evenly, for several
    N, K and k: the calibration folds hash with their own salt, not the path hash ``--subset`` uses."""
    for part_k in sorted({0, 1, n - 1}):
        paths = [str(p) for p in scan_folder(named_folder, subset=f"test:{part_k}/{n}").paths]
        assert len(paths) > 2000 / n / 2
        for k in (2, 3, 5, 10):
            sizes = np.bincount(fold_ids(outcomes(paths), k), minlength=k)
            assert len(sizes) == k and sizes.min() > len(paths) / k / 2, (n, part_k, k, sizes.tolist())


def test_the_folds_of_a_photo_depend_only_on_its_class_folder_and_name() -> None:
    """The same photo lands in the same fold wherever the folder is (another machine, another mount)."""
    names = [f"c{i % 3}/{i}.jpg" for i in range(60)]
    here = fold_ids(outcomes([f"/data/photos/{s}" for s in names]), 5)
    there = fold_ids(outcomes([f"/mnt/other/place/{s}" for s in names]), 5)
    assert (here == there).all() and set(here) == set(range(5))


def test_a_crossfit_around_calibrate_keeps_every_inner_fold() -> None:
    """``shipped_policies.py`` cross-fits ``calibrate``'s selection, which folds each training part again:
    with the outer folds salted apart every inner split has all its folds; hashed alike (as before
    #30) each inner split lacked the held-out fold, and its '5 inner folds' were 4."""
    preds = outcomes([f"/d/c{i % 10}/{i}.jpg" for i in range(500)])
    inner: list[int] = []

    def choose(train: Predictions) -> str:
        inner.append(len(np.unique(fold_ids(train, 5))))
        return "fixed-224"

    out_of_fold(preds, choose, MACS, k=5, salt=CROSSFIT_SALT)
    assert inner == [5] * 5
    inner.clear()
    out_of_fold(preds, choose, MACS, k=5)  # the calibration salt outside too: the coupling, shown
    assert inner == [4] * 5


def _avoiding_fold(k: int, avoid: int, count: int) -> list[str]:
    """``count`` photo paths none of which falls in calibration fold ``avoid`` of ``k``."""
    paths, i = [], 0
    while len(paths) < count:
        p = f"/d/c{i % 3}/{i}.jpg"
        if fold_ids(outcomes([p]), k)[0] != avoid:
            paths.append(p)
        i += 1
    return paths


@pytest.mark.parametrize("n_photos, why", [(3, "fewer photos"), (12, "empty")])
def test_an_empty_calibration_fold_is_refused_in_one_line(n_photos: int, why: str) -> None:
    preds = outcomes(_avoiding_fold(5, 4, n_photos))
    with pytest.raises(ConfigError, match="--folds 5") as exc:
        select_policy(preds, MACS, max_drop=100.0, folds=5)
    assert why in str(exc.value) and "\n" not in str(exc.value)


def _photo_folder(root: Path, per_class: int) -> Path:
    for c, name in enumerate(CLASSES):
        for i in range(per_class):
            write_image(root / name / f"{name}_{i:03d}.png", size=(72, 80), seed=100 * c + i)
    return root


def test_calibrate_on_a_test_subset_runs(tiny: tuple[Path, Path], tmp_path: Path) -> None:
    """``calibrate --subset test:0/5`` crashed with an IndexError: every photo of the subset fell in one
    calibration fold, leaving the other four empty."""
    ckpt, _ = tiny
    data = _photo_folder(tmp_path / "photos", 40)
    out = tmp_path / "cal.pt"
    p = run_cli("calibrate", "--model", str(ckpt), "--data", str(data), "--subset", "test:0/5", "--min-photos", "0",
                "--target-ratio", "1.0", "--out", str(out), "--quiet")  # fmt: skip
    assert p.returncode == 0, p.stderr
    assert out.is_file()


def test_calibrate_refuses_more_folds_than_photos_before_running_the_model(
    tiny: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import drnet_edge.runtime.outputs as outputs

    def no_model_run(*args: object, **kwargs: object) -> None:
        raise AssertionError("the model ran before the folds were checked")

    monkeypatch.setattr(outputs, "predict_folder", no_model_run)
    ckpt, data = tiny  # 12 photos
    out = tmp_path / "cal.pt"
    p = run_cli("calibrate", "--model", str(ckpt), "--data", str(data), "--min-photos", "0", "--folds", "20",
                "--target-ratio", "1.0", "--out", str(out), "--quiet")  # fmt: skip
    assert p.returncode == 2 and "--folds 20" in p.stderr and "fewer photos" in p.stderr, p.stderr
    assert "Traceback" not in p.stderr and not out.exists()


def test_within_fold_permutation_deals_each_folds_rows_among_themselves() -> None:
    """The random control of a cross-fitted policy: every row moves only within its fold, and the
    generator draws fold by fold (the figures of the scripts that used their own loop are unchanged)."""
    ids = np.random.default_rng(3).integers(0, 5, 200)
    perm = within_fold_permutation(ids, 5)
    assert sorted(perm) == list(range(200)) and (ids[perm] == ids).all() and (perm != np.arange(200)).any()
    rng, expected = np.random.default_rng(0), np.arange(200)
    for f in range(5):
        rows = np.flatnonzero(ids == f)
        expected[rows] = rng.permutation(rows)
    assert (perm == expected).all()


def test_benchmark_outcome_caches_follow_the_model_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The benchmarks' outcome caches (shipped_policies.py, flatter_curve.py) are keyed by the model's files and
    the photos: a re-bundled checkpoint or re-converted folder is scored again; a policy recorded later is not."""
    import json
    import sys

    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "benchmarks" / "release"))
    sys.modules.pop("shipped_policies", None)
    from shipped_policies import outcome_key

    ckpt = tmp_path / "m.pt"
    ckpt.write_bytes(b"weights 1")
    first = outcome_key(ckpt, ["photos", None])
    assert outcome_key(ckpt, ["photos", None]) == first
    assert outcome_key(ckpt, ["other photos", None]) != first
    ckpt.write_bytes(b"weights 2")
    assert outcome_key(ckpt, ["photos", None]) != first

    from .test_manifest import manifest_dict

    art = tmp_path / "art"
    art.mkdir()
    manifest = manifest_dict()
    (art / "manifest.json").write_text(json.dumps(manifest))
    key = outcome_key(art, "photos")
    manifest["targets"]["tflite"]["policy"] = {"name": "fixed-224"}
    (art / "manifest.json").write_text(json.dumps(manifest))
    assert outcome_key(art, "photos") == key, "a calibrated policy does not change the outcomes"
    manifest["targets"]["tflite"]["models"]["backbone_224"]["sha256"] = "b" * 64
    (art / "manifest.json").write_text(json.dumps(manifest))
    assert outcome_key(art, "photos") != key
