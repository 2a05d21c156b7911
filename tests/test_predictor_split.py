"""The predictor split (#32): which photos trained the backbone and which the predictor is recorded in
the checkpoint's metadata (kept when it is exported for shipping), and ``train`` warns in one line
when a predictor trains on photos its frozen backbone trained on."""

from pathlib import Path

import pytest

from drnet_edge.data.folders import scan_folder
from drnet_edge.errors import ConfigError
from drnet_edge.models.checkpoint import export_for_shipping, read_checkpoint, save_checkpoint
from drnet_edge.runtime.bundled import bundled_models, resolve_model
from drnet_edge.train import TrainConfig, train
from drnet_edge.train.split import describe_split, folder_record, overlap, photo_ids

from .conftest import run_cli

TINY = dict(backbone="resnet10t", resolutions=[64, 48], thumb_size=32, batch_size=4, workers=0, views=1, epochs=1)


@pytest.fixture(scope="module")
def backbone_ckpt(tiny: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny DRNet, its backbone recorded as trained on fold ``train:0/2`` of the tiny photos."""
    ckpt_path, photos = tiny
    ckpt = read_checkpoint(ckpt_path)
    folder = scan_folder(photos, subset="train:0/2")
    ckpt["meta"] = {"mode": "joint", "data": {"backbone": folder_record(folder, [str(photos)], "train:0/2", None)}}
    return save_checkpoint(tmp_path_factory.mktemp("split") / "backbone.pt", ckpt)


def _predictor_run(init: Path, photos: Path, out: Path, subset: str | None, **kw) -> None:
    cfg = TrainConfig(
        data=str(photos), out=str(out), mode="predictor", init_from=str(init), subset=subset, **TINY, **kw
    )
    train(cfg, progress=False, log=lambda m: None)


def test_split_is_in_the_shipped_checkpoint(
    backbone_ckpt: Path, tiny: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    photos = tiny[1]
    _predictor_run(backbone_ckpt, photos, tmp_path / "p.pt", "test:0/2")
    assert "warning:" not in capsys.readouterr().err  # disjoint folds: no warning
    shipped = export_for_shipping(tmp_path / "p.pt", tmp_path / "shipped.pt", folder_names={str(photos): "tiny-set"})
    ckpt = read_checkpoint(shipped)
    assert ckpt["train_state"] is None
    data = ckpt["meta"]["data"]
    held, rest = scan_folder(photos, subset="test:0/2"), scan_folder(photos, subset="train:0/2")
    # the shipped file names the photo sets, not this machine's paths; the counts and ids stay
    assert data["predictor"]["folders"] == ["tiny-set"] and data["predictor"]["subset"] == "test:0/2"
    assert data["backbone"]["folders"] == ["tiny-set"]
    assert export_for_shipping(tmp_path / "p.pt", tmp_path / "s2.pt").exists()
    assert read_checkpoint(tmp_path / "s2.pt")["meta"]["data"]["predictor"]["folders"] == [photos.name]
    again = export_for_shipping(shipped, tmp_path / "s3.pt")  # a shipped file exported again keeps its names
    assert read_checkpoint(again)["meta"]["data"]["predictor"]["folders"] == ["tiny-set"]
    assert data["predictor"]["photos"] == len(held) > 0
    assert data["predictor"]["ids"] == photo_ids([f"{p.parent.name}/{p.name}" for p in held.paths])
    assert data["backbone"]["photos"] == len(rest) and data["backbone"]["subset"] == "train:0/2"
    assert data["backbone"]["via"] == backbone_ckpt.name  # carried over from --init-from's record, its path not shipped
    assert data["backbone_frozen"] and data["overlap"] == 0
    assert len(data["predictor"]["sha256"]) == 64
    # the digest is of the sorted relative file list: the same photos scanned again give the same one
    assert folder_record(held, [str(photos)], "test:0/2", None)["sha256"] == data["predictor"]["sha256"]
    assert read_checkpoint(tmp_path / "p.pt")["meta"]["data"]["predictor"]["folders"] == [str(photos)]
    assert describe_split(data).endswith("; 0 photos in both")
    shown = run_cli("models", str(shipped))
    assert shown.returncode == 0 and "trained on" in shown.stdout


def test_overlap_warns_in_one_line(
    backbone_ckpt: Path, tiny: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    photos = tiny[1]
    _predictor_run(backbone_ckpt, photos, tmp_path / "p.pt", None)  # every photo: the backbone's fold too
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("warning:")]
    n_back = len(scan_folder(photos, subset="train:0/2"))
    assert len(err) == 1 and err[0].startswith(f"warning: {n_back} of the predictor's 12 photos")
    assert read_checkpoint(tmp_path / "p.pt")["meta"]["data"]["overlap"] == n_back


def test_unrecorded_backbone_is_a_note_and_fresh_predictor(
    tiny: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ckpt_path, photos = tiny  # a checkpoint from before records: nothing to compare with
    _predictor_run(ckpt_path, photos, tmp_path / "p.pt", None, fresh_predictor=True)
    err = capsys.readouterr().err
    assert "warning:" not in err and "note:" in err and "not checked" in err
    data = read_checkpoint(tmp_path / "p.pt")["meta"]["data"]
    assert data["backbone"]["photos"] is None and data["overlap"] is None
    # --fresh-predictor: a new predictor (the default 4-stage trunk), not the checkpoint's 2-stage one
    assert read_checkpoint(tmp_path / "p.pt")["predictor_cfg"]["trunk_stages"] != 2
    with pytest.raises(ConfigError, match="--fresh-predictor"):
        TrainConfig(data=str(photos), out=str(tmp_path / "j.pt"), mode="joint", fresh_predictor=True).prepare()


def test_overlap_counts_photos_by_class_and_file_name() -> None:
    a = {"id_rule": "r", "ids": photo_ids(["cat/1.jpg", "dog/2.jpg"])}
    b = {"id_rule": "r", "ids": photo_ids(["dog/2.jpg", "dog/3.jpg"])}
    assert overlap(a, b) == 1 and overlap(a, {"ids": None}) is None
    assert len(photo_ids([f"c/{i}.jpg" for i in range(3000)])) == 3000 * 13 - 1  # 12 hex + a space each


@pytest.mark.parametrize("fresh", [False, True])
def test_another_thumb_size_starts_from_the_old_predictor_unless_fresh(fresh: bool) -> None:
    """``--init-from`` with another ``--thumb-size`` (#32 point 2): the warm variant keeps the old
    predictor's weights and shape (no layer depends on the thumbnail's size); ``--fresh-predictor`` not."""
    import types

    import torch

    from drnet_edge.models.drnet import PredictorCfg, ResolutionPredictor
    from drnet_edge.train.setup import build_for_training

    old = ResolutionPredictor(PredictorCfg(2, thumb_size=32, trunk_stages=2), pretrained_trunk=False)
    frozen = types.SimpleNamespace(predictor=old)
    cfg = TrainConfig(
        data="d", out="o.pt", mode="predictor", resolutions=[64, 48], thumb_size=40, fresh_predictor=fresh
    )
    new = build_for_training(cfg, None, False, frozen).predictor  # type: ignore[arg-type]
    same = all(torch.equal(a, b) for a, b in zip(old.state_dict().values(), new.state_dict().values(), strict=False))
    assert same != fresh and (new.cfg.trunk_stages == 2) != fresh
    assert new.cfg.thumb_size == 40 and new.eval()(torch.zeros(1, 3, 40, 40)).shape == (1, 2)


def test_another_thumb_size_reuses_the_cached_outcomes(
    tiny: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The outcome cache keeps each view's box: a second run with another ``--thumb-size`` cuts its
    thumbnails from the same views, and the backbone does not run again."""
    import torch

    from drnet_edge.data.folders import scan_folder as scan
    from drnet_edge.models.checkpoint import load_model
    from drnet_edge.train import cache as cache_mod
    from drnet_edge.train.views import ViewDataset

    ckpt, photos = tiny
    cfg = dict(TINY, views=2, epochs=1, mode="predictor", init_from=str(ckpt), cache_dir=str(tmp_path / "c"))
    train(TrainConfig(data=str(photos), out=str(tmp_path / "a.pt"), **cfg), progress=False, log=lambda m: None)

    def no_backbone(*a: object, **k: object) -> None:
        raise AssertionError("the backbone ran again")

    monkeypatch.setattr(cache_mod, "_outcomes", no_backbone)
    cfg["thumb_size"] = 40
    train(TrainConfig(data=str(photos), out=str(tmp_path / "b.pt"), **cfg), progress=False, log=lambda m: None)
    (path,) = (tmp_path / "c").glob("outcomes-*.pt")
    store = torch.load(path, weights_only=True)
    net = load_model(ckpt)[0]
    ds = ViewDataset(scan(photos, classes=None), [40, 32], net.preprocess, seed=0, augment=True)
    for i, p in enumerate(ds.folder.paths):
        entry = store[str(p.resolve())]
        for v in range(2):  # the same view, cut again at 40 and 32 px, equals what the cache holds
            fresh = ds.item(i, v or None)["crops"]
            assert torch.equal(entry["thumb40"][v], torch.from_numpy(fresh[40]))
            assert torch.equal(entry["thumb32"][v], torch.from_numpy(fresh[32]))


@pytest.mark.parametrize("name", sorted(bundled_models()))
def test_bundled_models_name_photo_sets_not_paths(name: str) -> None:
    """A bundled checkpoint's photo record went through export_for_shipping: public names (folders and the
    ``via`` checkpoints), no local paths."""
    data = (read_checkpoint(resolve_model(name)).get("meta") or {}).get("data")
    if not data:
        pytest.skip(f"{name} carries no photo record (bundled before records)")
    assert data.get("public") is True

    def folders(rec: object) -> list[str]:
        if not isinstance(rec, dict):
            return []
        via = [rec["via"]] if isinstance(rec.get("via"), str) else []
        return list(rec.get("folders") or []) + via + [f for v in rec.values() for f in folders(v)]

    named = folders(data)
    assert named, "a record without folders"
    for f in named:
        assert not f.startswith(("/", "./", "../", "runs/")) and "shared/data" not in f, f
