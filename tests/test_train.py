"""Training end to end on tiny data: predictor mode, joint mode, exact --resume, DDP with 2 processes."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from drnet_edge.errors import CheckpointError, ConfigError
from drnet_edge.evaluate import evaluate
from drnet_edge.models.checkpoint import read_checkpoint
from drnet_edge.train import TrainConfig, train

from .conftest import write_image

TINY = dict(resolutions=[64, 48], thumb_size=32, batch_size=4, workers=0, views=2)


@pytest.fixture
def imagenet_like(tmp_path: Path) -> Path:
    root = tmp_path / "inet"
    for c, wnid in enumerate(["n01440764", "n01443537", "n01484850"]):
        for i in range(3):
            write_image(root / wnid / f"{i}.jpg", size=(80, 96), seed=10 * c + i)
    return root


def state(path: Path) -> dict[str, torch.Tensor]:
    ckpt = read_checkpoint(path)
    out = {f"p.{k}": v for k, v in ckpt["predictor"].items()}
    out.update({f"b.{k}": v for k, v in (ckpt["backbone_state"] or {}).items()})
    return out


@pytest.mark.slow
def test_predictor_mode_trains_caches_and_evaluates(imagenet_like: Path, tmp_path: Path) -> None:
    out = tmp_path / "p.pt"
    metrics = train(
        TrainConfig(data=str(imagenet_like), out=str(out), epochs=2, **TINY), progress=False, log=lambda m: None
    )
    assert "train_top1_drnet" in metrics
    lines = Path(str(out) + ".metrics.jsonl").read_text().splitlines()
    assert [json.loads(ln)["epoch"] for ln in lines] == [1, 2]
    assert list(Path(str(out) + ".cache").glob("outcomes-*.pt"))
    ckpt = read_checkpoint(out)
    assert ckpt["backbone_state"] is None and ckpt["predictor"] is not None  # frozen backbone comes from the registry
    report = evaluate(imagenet_like, model=out, policies="fixed,drnet,random", progress=False)
    assert set(report.policies) == {"fixed-64", "fixed-48", "drnet", "random"}
    assert report.policies["drnet"].resolution_share == report.policies["random"].resolution_share


def test_predictor_mode_needs_a_backbone_that_knows_the_classes(tiny_folder: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="predictor mode keeps the backbone frozen"):
        train(TrainConfig(data=str(tiny_folder), out=str(tmp_path / "x.pt"), **TINY), progress=False)


def joint_cfg(data: Path, out: Path, **kw) -> TrainConfig:
    return TrainConfig(data=str(data), out=str(out), mode="joint", epochs=2, pretrain_epochs=1, lr=0.01, **TINY, **kw)


def test_resume_continues_exactly(tiny_folder: Path, tmp_path: Path) -> None:
    train(joint_cfg(tiny_folder, tmp_path / "a.pt"), progress=False, log=lambda m: None)

    def stop_after_first_epoch(msg: str) -> None:
        if msg.startswith("epoch 1/2"):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(joint_cfg(tiny_folder, tmp_path / "b.pt"), progress=False, log=stop_after_first_epoch)
    assert read_checkpoint(tmp_path / "b.pt")["meta"]["epochs_done"] == 1  # the last good checkpoint survives
    train(joint_cfg(tiny_folder, tmp_path / "b.pt"), resume=True, progress=False, log=lambda m: None)
    a, b = state(tmp_path / "a.pt"), state(tmp_path / "b.pt")
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a), "resumed run differs from the uninterrupted one"
    lines = Path(str(tmp_path / "b.pt") + ".metrics.jsonl").read_text().splitlines()
    assert [json.loads(ln)["epoch"] for ln in lines] == [1, 2]


def test_resume_with_other_settings_is_refused(tiny_folder: Path, tmp_path: Path) -> None:
    cfg = joint_cfg(tiny_folder, tmp_path / "a.pt")
    cfg.epochs, cfg.pretrain_epochs = 1, 1
    train(cfg, progress=False, log=lambda m: None)
    other = joint_cfg(tiny_folder, tmp_path / "a.pt")
    other.resolutions = [64, 32]
    with pytest.raises(CheckpointError, match="different resolutions"):
        train(other, resume=True, progress=False)


@pytest.mark.slow
def test_two_process_ddp_on_cpu(tiny_folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "ddp.pt"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", "-m", "drnet_edge", "train",
           "--data", str(tiny_folder), "--out", str(out), "--mode", "joint", "--epochs", "2", "--pretrain-epochs", "1",
           "--resolutions", "64,48", "--thumb-size", "32", "--batch-size", "2", "--workers", "0", "--threads", "1", "--quiet"]  # fmt: skip
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr[-3000:]
    assert read_checkpoint(out)["meta"]["epochs_done"] == 2
    assert p.stdout.count("epoch 2/2") == 1  # only rank 0 reports


def test_predictor_mode_on_a_trained_drnet_keeps_its_backbone(tiny_folder: Path, tmp_path: Path) -> None:
    """--init-from a joint checkpoint (own classes, resolution-aware BN): only the predictor learns."""
    cfg = joint_cfg(tiny_folder, tmp_path / "joint.pt")
    cfg.epochs, cfg.pretrain_epochs = 1, 1
    train(cfg, progress=False, log=lambda m: None)
    out = tmp_path / "pred.pt"
    train(
        TrainConfig(data=str(tiny_folder), out=str(out), mode="predictor", init_from=str(tmp_path / "joint.pt"),
                    epochs=1, lr=0.05, **TINY),
        progress=False, log=lambda m: None,
    )  # fmt: skip
    before, after = read_checkpoint(tmp_path / "joint.pt"), read_checkpoint(out)
    assert after["resolution_bn"] and after["classes"]["ids"] == before["classes"]["ids"]
    assert all(torch.equal(before["backbone_state"][k], v) for k, v in after["backbone_state"].items())
    assert any(not torch.equal(before["predictor"][k], v) for k, v in after["predictor"].items())
    report = evaluate(tiny_folder, model=out, policies="fixed,drnet", progress=False)
    assert set(report.policies) == {"fixed-64", "fixed-48", "drnet"}


def test_an_imagenet_subset_with_extra_data_gets_a_head_for_the_present_classes(
    imagenet_like: Path, tmp_path: Path
) -> None:
    """Joint mode on ImageNet wnid folders (Imagewoof-like) with ``--extra-data`` elsewhere: the head is
    for the classes present in either folder (found while running #32's flatter-curve script: the
    extra folder's photos were taken relative to --data, and train failed)."""
    from drnet_edge.train.setup import _classes_for

    extra = tmp_path / "extra"
    write_image(extra / "n01440764" / "x.jpg", size=(80, 96), seed=99)
    write_image(extra / "n01530575" / "y.jpg", size=(80, 96), seed=98)  # a class only the extra folder has
    cfg = TrainConfig(data=str(imagenet_like), out=str(tmp_path / "j.pt"), mode="joint", extra_data=[str(extra)])
    folder, classes, imagenet = _classes_for(cfg)
    assert classes.ids == ("n01440764", "n01443537", "n01484850", "n01530575") and not imagenet
    assert len(folder.paths) == 11 and sorted(set(folder.labels)) == [0, 1, 2, 3]
