"""Every training option reaches the code it configures: ``--joint-forward`` (``all`` vs ``chosen``,
``auto`` resolved per device) and, field by field, the whole of :class:`TrainConfig`."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
import torch

from drnet_edge.data.folders import fold_of
from drnet_edge.errors import CheckpointError, ConfigError
from drnet_edge.models.backbones import create_backbone
from drnet_edge.models.checkpoint import read_checkpoint
from drnet_edge.models.drnet import ResolutionBN
from drnet_edge.train import TrainConfig, Trainer, resolve_joint_forward
from drnet_edge.train import trainer as trainer_module

from .conftest import write_image

QUIET = dict(progress=False, log=lambda m: None)


@pytest.fixture
def resnet_weights(tmp_path: Path) -> Path:
    """A random two-class resnet10t state dict: a small backbone that needs no download."""
    torch.manual_seed(1)
    path = tmp_path / "resnet10t-2.pt"
    torch.save(create_backbone("resnet10t", pretrained=False, num_classes=2).state_dict(), path)
    return path


def tiny_joint(data: Path, out: Path, weights: Path, **kw: Any) -> TrainConfig:
    base: dict[str, Any] = dict(
        backbone="resnet10t", weights=str(weights), mode="joint", resolutions=[64, 48], thumb_size=32,
        batch_size=4, workers=0, epochs=1, pretrain_epochs=0, lr=0.01,
    )  # fmt: skip
    return TrainConfig(data=str(data), out=str(out), **{**base, **kw})


def saved_config(path: Path | str) -> dict[str, Any]:
    return json.loads(read_checkpoint(path)["train_state"]["config"])


# -- --joint-forward ------------------------------------------------------------------------------


@pytest.mark.parametrize("joint_forward", ["all", "chosen"])
def test_joint_forward_reaches_the_joint_step(
    joint_forward: str, tiny_folder: Path, tmp_path: Path, resnet_weights: Path
) -> None:
    """``all`` runs the whole batch at every resolution and nothing else; ``chosen`` also runs each
    image once more at its chosen resolution (the batch split by resolution)."""
    out = tmp_path / "j.pt"
    trainer = Trainer(tiny_joint(tiny_folder, out, resnet_weights, joint_forward=joint_forward), **QUIET)
    assert trainer.step_module.joint_forward == joint_forward
    calls: list[tuple[int, int]] = []
    trainer.model.backbone.register_forward_pre_hook(lambda m, a: calls.append((a[0].shape[0], a[0].shape[-1])))
    trainer.run()  # one joint epoch: 6 images, batch 4, the last partial batch dropped: one step
    every_resolution = [(4, 64), (4, 48)]
    if joint_forward == "all":
        assert calls == every_resolution
    else:  # the no-grad losses at every resolution, then one pass per chosen resolution over its images
        assert calls[:2] == every_resolution and len(calls) > 2
        assert sum(n for n, _ in calls[2:]) == 4 and len({r for _, r in calls[2:]}) == len(calls) - 2
    assert saved_config(out)["joint_forward"] == joint_forward


def test_joint_forward_auto_is_chosen_on_the_cpu(
    tiny_folder: Path, tmp_path: Path, resnet_weights: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    out = tmp_path / "auto.pt"
    cfg = tiny_joint(tiny_folder, out, resnet_weights, joint_forward="auto")
    trainer = Trainer(cfg, **QUIET)
    assert trainer.cfg.joint_forward == "chosen" and trainer.step_module.joint_forward == "chosen"
    trainer.run()
    assert saved_config(out)["joint_forward"] == "chosen"  # the checkpoint records the forward actually used


def test_resolve_joint_forward() -> None:
    assert resolve_joint_forward("auto", torch.device("cpu")) == "chosen"
    assert resolve_joint_forward("auto", torch.device("cuda", 0)) == "all"
    assert resolve_joint_forward("chosen", torch.device("cuda", 0)) == "chosen"
    assert resolve_joint_forward("all", torch.device("cpu")) == "all"
    with pytest.raises(ConfigError, match="--joint-forward"):
        resolve_joint_forward("some", torch.device("cpu"))


# -- one weights-loading path for --init-from and --resume -------------------------------------------


def test_init_from_with_another_bn_layout_is_refused(tiny_folder: Path, tmp_path: Path, resnet_weights: Path) -> None:
    first = tmp_path / "shared-bn.pt"
    Trainer(tiny_joint(tiny_folder, first, resnet_weights, resolution_bn=False), **QUIET).run()
    cfg = tiny_joint(tiny_folder, tmp_path / "b.pt", resnet_weights, init_from=str(first))
    with pytest.raises(CheckpointError, match=r"--init-from .*tensors do not fit"):
        Trainer(cfg, **QUIET)


# -- every TrainConfig field ------------------------------------------------------------------------


class Spy:
    """Records the data sets and data loaders the trainer builds."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.datasets: list[Any] = []
        self.loaders: list[dict[str, Any]] = []
        real_ds, real_loader = trainer_module.ViewDataset, trainer_module.DataLoader

        def dataset(*args: Any, **kw: Any) -> Any:
            self.datasets.append(real_ds(*args, **kw))
            return self.datasets[-1]

        def loader(*args: Any, **kw: Any) -> Any:
            self.loaders.append(kw)
            return real_loader(*args, **kw)

        monkeypatch.setattr(trainer_module, "ViewDataset", dataset)
        monkeypatch.setattr(trainer_module, "DataLoader", loader)


def test_every_config_field_reaches_where_it_acts(
    tiny_folder: Path, tmp_path: Path, resnet_weights: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two runs with every field off its default: a joint run, then predictor mode on its checkpoint.
    Each field has one check on the object that consumes it; a new field needs a new check."""
    extra = tmp_path / "extra"
    for c, name in enumerate(["cat", "dog"]):
        write_image(extra / name / "9.png", seed=50 + c)
    class_file = tmp_path / "classes.txt"
    class_file.write_text("dog\ncat\n")  # not the sorted folder order
    joint_out, pred_out, cache_dir = tmp_path / "joint.pt", tmp_path / "pred.pt", tmp_path / "outcomes"
    joint = TrainConfig(
        data=str(tiny_folder), out=str(joint_out), backbone="resnet10t", resolutions=[48, 64], mode="joint",
        weights=str(resnet_weights), classes=str(class_file), subset="train:1/2", extra_data=[str(extra)],
        epochs=3, pretrain_epochs=2, batch_size=3, lr=0.05, weight_decay=1e-3, target_ratio=0.8, eta=0.5,
        tau=0.7, thumb_size=32, resolution_bn=False, joint_forward="all", distill=0.5, train_scale=0.75, workers=0, seed=5,
        limit=3,
    )  # fmt: skip
    pred = TrainConfig(
        data=str(tiny_folder), out=str(pred_out), backbone="resnet10t", resolutions=[64, 48], mode="predictor",
        init_from=str(joint_out), cache_dir=str(cache_dir), epochs=1, batch_size=2, target_macs=5.0, thumb_size=24,
        views=3, augment=False, workers=0,
    )  # fmt: skip
    spy = Spy(monkeypatch)
    torch.manual_seed(0)
    jt = Trainer(dataclasses.replace(joint), **QUIET)
    main = [p for p in jt.folder.paths if extra not in p.parents]
    held_out = [p for p in tiny_folder.rglob("*.png") if fold_of(p, tiny_folder, 2) == 1]
    file_weights = torch.load(resnet_weights, weights_only=True)
    paths, labels = jt.folder.paths, jt.folder.labels
    checks: dict[str, bool] = {
        "data": len(main) > 0 and all(tiny_folder in p.parents for p in main),
        "backbone": jt.model.backbone_name == "resnet10t",
        "resolutions": jt.model.resolutions == [64, 48],
        "mode": jt.model.predictor is not None and isinstance(jt.optimizer, torch.optim.SGD),
        "weights": all(torch.equal(v, jt.model.backbone.state_dict()[k].cpu()) for k, v in file_weights.items()),
        "classes": jt.classes.ids == ("dog", "cat") and labels == [jt.classes.ids.index(p.parent.name) for p in paths],
        "subset": len(held_out) > 0 and not set(held_out) & set(main),
        "extra_data": sorted(p.name for p in jt.folder.paths if extra in p.parents) == ["9.png", "9.png"],
        "limit": len(main) == 3,
        "lr": jt.optimizer.param_groups[0]["lr"] == 0.05,
        "weight_decay": jt.optimizer.param_groups[0]["weight_decay"] == 1e-3,
        "target_ratio": jt.target == pytest.approx(0.8 * float(jt.macs.max())),
        "eta": jt.step_module.eta == 0.5,
        "tau": jt.step_module.tau == 0.7,
        "joint_forward": jt.step_module.joint_forward == "all",
        "distill": jt.step_module.distill == 0.5,
        "resolution_bn": not any(isinstance(m, ResolutionBN) for m in jt.model.backbone.modules()),
        "pretrain_epochs": [jt.phase(e) for e in range(3)] == ["multi", "multi", "joint"],
    }
    jt.run()
    lines = [json.loads(ln) for ln in Path(str(joint_out) + ".metrics.jsonl").read_text().splitlines()]
    (ds,) = spy.datasets
    checks.update(
        {
            "out": joint_out.is_file() and read_checkpoint(joint_out)["meta"]["epochs_done"] == 3,
            "epochs": [ln["epoch"] for ln in lines] == [1, 2, 3],
            "thumb_size": 32 in ds.sizes and jt.model.thumb_size == 32,
            # 0.75 x 64 and 0.75 x 48: the paths train on 48 and 36 px crops (none at 64), and are tested at 64, 48
            "train_scale": jt.train_sizes == [48, 36] and sorted(ds.sizes) == [32, 36, 48],
            "seed": ds.seed == 5,
            "batch_size": [kw["batch_size"] for kw in spy.loaders] == [3, 3, 3],
            "workers": all(kw["num_workers"] == 0 for kw in spy.loaders),
        }
    )
    recorded = saved_config(joint_out)
    assert recorded == {**dataclasses.asdict(joint), "resolutions": [64, 48]}  # every field, as used

    pt = Trainer(dataclasses.replace(pred), **QUIET)
    pt.run()
    (cache_file,) = cache_dir.glob("outcomes-*.pt")
    outcomes = torch.load(cache_file, weights_only=True)
    thumbs = torch.stack([v["thumb24"] for v in outcomes.values()])  # image, view, h, w, 3
    frozen = read_checkpoint(joint_out)["backbone_state"]
    checks.update(
        {
            "init_from": all(torch.equal(v, pt.model.backbone.state_dict()[k].cpu()) for k, v in frozen.items()),
            "cache_dir": not Path(str(pred_out) + ".cache").exists(),
            "views": thumbs.shape[1] == 3,
            "augment": spy.datasets[-1].augment is False and bool((thumbs == thumbs[:, :1]).all()),
            "target_macs": pt.target == 5.0,
        }
    )
    checks["thumb_size"] = checks["thumb_size"] and pt.model.thumb_size == 24 and thumbs.shape[2] == 24
    # fresh_predictor: at the joint run's thumbnail size the checkpoint's predictor is kept, unless asked afresh
    joint_predictor = read_checkpoint(joint_out)["predictor"]

    def keeps_joint_predictor(**kw: Any) -> bool:
        t = Trainer(dataclasses.replace(pred, thumb_size=32, out=str(tmp_path / f"p{len(kw)}.pt"), **kw), **QUIET)
        state = t.model.predictor.state_dict()
        return all(torch.equal(v.float(), state[k].float().cpu()) for k, v in joint_predictor.items())

    checks["fresh_predictor"] = keeps_joint_predictor() and not keeps_joint_predictor(fresh_predictor=True)
    assert saved_config(pred_out)["joint_forward"] == resolve_joint_forward("auto", pt.env.device)  # as resolved

    assert sorted(checks) == sorted(f.name for f in dataclasses.fields(TrainConfig)), "a field without a check"
    assert [name for name, ok in checks.items() if not ok] == []


@pytest.mark.parametrize("pretrain, has_predictor_group", [(0, True), (1, False)])
def test_joint_optimizer_trains_the_predictor_from_the_first_joint_epoch(
    tiny_folder: Path, tmp_path: Path, resnet_weights: Path, pretrain: int, has_predictor_group: bool
) -> None:
    """With --pretrain-epochs 0 the first epoch is joint: the optimiser must hold the predictor already."""
    cfg = tiny_joint(tiny_folder, tmp_path / "p.pt", resnet_weights, pretrain_epochs=pretrain)
    trainer = Trainer(cfg, **QUIET)
    assert trainer.model.predictor is not None
    pred = {id(p) for p in trainer.model.predictor.parameters()}
    held = {id(p) for g in trainer.optimizer.param_groups for p in g["params"]}
    assert (pred <= held) == has_predictor_group


# -- --distill ------------------------------------------------------------------------------------


def test_distill_adds_the_largest_resolutions_kl_to_each_smaller_one(resnet_weights: Path) -> None:
    """The multi-resolution loss is the mean over resolutions of CE + distill * KL(p_largest || p_k)
    (none at the largest); the teacher gets no gradient from the KL term."""
    import torch.nn.functional as F

    from drnet_edge.models.backbones import get_backbone_cfg
    from drnet_edge.models.drnet import DRNet, make_resolution_aware, set_resolution
    from drnet_edge.train.step import TrainStep, distill_loss

    torch.manual_seed(0)
    backbone = create_backbone("resnet10t", weights=resnet_weights, num_classes=2)
    make_resolution_aware(backbone, 2)
    net = DRNet(backbone, [64, 48], None, get_backbone_cfg("resnet10t").preprocess).eval()  # eval: fixed BN
    xs = [torch.randn(4, 3, 64, 64), torch.randn(4, 3, 48, 48)]
    labels = torch.tensor([0, 1, 1, 0])
    macs = torch.tensor([2.0, 1.0])
    plain = TrainStep(net, macs, 0, 1.0, 0.2, 1.0)("multi", xs, torch.zeros(4, 3, 32, 32), labels)[0]
    step = TrainStep(net, macs, 0, 1.0, 0.2, 1.0, distill=0.7)
    loss = step("multi", xs, torch.zeros(4, 3, 32, 32), labels)[0]
    with torch.no_grad():
        set_resolution(net.backbone, 0)
        t = net.backbone(xs[0])
        set_resolution(net.backbone, 1)
        s = net.backbone(xs[1])
    assert float((loss - plain).detach()) == pytest.approx(0.7 * float(distill_loss(s, t)) / 2, rel=1e-3, abs=1e-6)
    assert float(distill_loss(t, t)) == pytest.approx(0.0, abs=1e-6)
    teacher = torch.randn(3, 5, requires_grad=True)
    student = torch.randn(3, 5, requires_grad=True)
    distill_loss(student, teacher).backward()
    assert teacher.grad is None and student.grad is not None
    with torch.no_grad():
        assert float(distill_loss(student, teacher)) == pytest.approx(
            float(F.kl_div(F.log_softmax(student, 1), F.softmax(teacher, 1), reduction="batchmean")), rel=1e-5
        )


@pytest.mark.parametrize(
    "kw, flag",
    [
        ({"distill": -0.1}, ">= 0"),
        ({"distill": 0.5, "mode": "plain"}, "joint"),
        ({"distill": 0.5, "mode": "joint", "epochs": 2, "pretrain_epochs": 0}, "pretrain-epochs 0"),
    ],
)
def test_bad_distill_is_refused(tmp_path: Path, kw: dict, flag: str) -> None:
    with pytest.raises(ConfigError, match=flag):
        TrainConfig(data=str(tmp_path), out=str(tmp_path / "o.pt"), **kw).validate()
