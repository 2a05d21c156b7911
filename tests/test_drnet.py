"""DRNet pieces: resolution-aware BN, Gumbel step, MACs loss, one-pass inference, checkpoints."""

from pathlib import Path

import pytest
import torch
from torch import nn

from drnet_edge.data.classes import ClassList
from drnet_edge.errors import CheckpointError, ConfigError
from drnet_edge.models.backbones import TF_LITE_PREPROCESS, create_backbone
from drnet_edge.models.checkpoint import load_model, make_checkpoint, read_checkpoint, save_checkpoint
from drnet_edge.models.drnet import (
    DRNet,
    PredictorCfg,
    ResolutionBN,
    ResolutionPredictor,
    fold_resolution,
    gumbel_choice,
    macs_constraint_loss,
    make_resolution_aware,
    set_resolution,
)
from drnet_edge.train import TrainStep

RES = [64, 48]


def tiny_drnet(resolution_bn: bool = True) -> DRNet:
    backbone = create_backbone("efficientnet_lite0", pretrained=False, num_classes=5)
    if resolution_bn:
        make_resolution_aware(backbone, len(RES))
    predictor = ResolutionPredictor(PredictorCfg(len(RES), thumb_size=32, trunk_stages=2), pretrained_trunk=False)
    return DRNet(backbone, RES, predictor, TF_LITE_PREPROCESS, backbone_name="efficientnet_lite0").eval()


def test_every_batchnorm_becomes_resolution_aware() -> None:
    model = create_backbone("efficientnet_lite0", pretrained=False)
    n_bn = sum(isinstance(m, nn.BatchNorm2d) for m in model.modules())
    assert make_resolution_aware(model, 3) == n_bn
    assert sum(isinstance(m, ResolutionBN) for m in model.modules()) == n_bn
    assert sum(isinstance(m, nn.BatchNorm2d) for m in model.modules()) == 3 * n_bn  # private copies


def test_bn_selection_changes_outputs_and_folding_matches() -> None:
    model = tiny_drnet()
    for m in model.backbone.modules():
        if isinstance(m, ResolutionBN):
            m.bns[1].weight.data.mul_(1.5)
            m.bns[1].running_mean.add_(0.1)
    x = torch.randn(2, 3, 48, 48)
    with torch.no_grad():
        set_resolution(model.backbone, 0)
        a = model.backbone(x)
        set_resolution(model.backbone, 1)
        b = model.backbone(x)
        folded = fold_resolution(model.backbone, 1).eval()(x)
    assert not torch.allclose(a, b)
    assert torch.allclose(b, folded, atol=1e-6)
    assert not any(isinstance(m, ResolutionBN) for m in fold_resolution(model.backbone, 0).modules())


def test_gumbel_is_hard_forward_soft_backward() -> None:
    logits = torch.randn(8, 3, requires_grad=True)
    y = gumbel_choice(logits, tau=1.0)
    assert torch.equal(y.sum(1), torch.ones(8)) and set(y.detach().unique().tolist()) <= {0.0, 1.0}
    (y * torch.tensor([3.0, 2.0, 1.0])).sum().backward()
    assert logits.grad is not None and logits.grad.abs().sum() > 0


def test_macs_loss_zero_under_target_positive_over() -> None:
    assert macs_constraint_loss(torch.tensor(100.0), 150.0, 50.0, 300.0).item() == 0.0
    assert macs_constraint_loss(torch.tensor(200.0), 150.0, 50.0, 300.0).item() == pytest.approx(50 / 250)


@pytest.mark.slow
@pytest.mark.parametrize("phase, joint_forward", [("joint", "chosen"), ("joint", "all"), ("multi", "chosen")])
def test_train_step_gradients(phase: str, joint_forward: str) -> None:
    model = tiny_drnet().train()
    step = TrainStep(
        model, torch.tensor([10.0, 6.0]), pred_macs=0, target_m=7.0, eta=0.5, tau=1.0, joint_forward=joint_forward
    )
    xs = [torch.randn(6, 3, r, r) for r in RES]
    loss, _, _ = step(phase, xs, torch.randn(6, 3, 32, 32), torch.randint(0, 5, (6,)))
    loss.backward()
    pred_grad = sum(p.grad.abs().sum().item() for p in model.predictor.parameters() if p.grad is not None)
    back_grad = sum(p.grad.abs().sum().item() for p in model.backbone.parameters() if p.grad is not None)
    assert back_grad > 0
    assert (pred_grad > 0) == (phase == "joint")  # gradients reach the predictor through the Gumbel step


def test_joint_forwards_agree_on_the_loss_value() -> None:
    """'all' and 'chosen' compute the same forward value (hard one-hot): only their cost differs."""
    xs, thumb, labels = [torch.randn(6, 3, r, r) for r in RES], torch.randn(6, 3, 32, 32), torch.randint(0, 5, (6,))
    losses = []
    for mode in ("chosen", "all"):
        torch.manual_seed(3)  # same weights and the same Gumbel noise for both
        model = tiny_drnet().eval()  # eval: BN uses running statistics, so both see identical normalisation
        step = TrainStep(
            model, torch.tensor([10.0, 6.0]), pred_macs=0, target_m=7.0, eta=0.5, tau=1.0, joint_forward=mode
        )
        losses.append(step("joint", xs, thumb, labels)[0].item())
    assert losses[0] == pytest.approx(losses[1], rel=1e-5)


def test_predictor_macs_budget_for_the_default_predictor() -> None:
    predictor = ResolutionPredictor(PredictorCfg(4), pretrained_trunk=False)
    model = DRNet(
        create_backbone("efficientnet_lite0", pretrained=False),
        [224, 192, 160, 128],
        predictor,
        TF_LITE_PREPROCESS,
        backbone_name="efficientnet_lite0",
    )
    from drnet_edge.models.macs import backbone_macs

    assert model.predictor_macs() <= 0.05 * backbone_macs("efficientnet_lite0", 224)


def test_resolutions_must_be_sorted() -> None:
    with pytest.raises(ConfigError):
        DRNet(nn.Identity(), [48, 64], None, TF_LITE_PREPROCESS)


def classes5() -> ClassList:
    return ClassList(tuple(f"c{i}" for i in range(5)), tuple(f"class {i}" for i in range(5)), "test")


def test_checkpoint_roundtrip_same_outputs(tmp_path: Path) -> None:
    model = tiny_drnet()
    path = save_checkpoint(tmp_path / "m.pt", make_checkpoint(model, classes5(), include_backbone=True))
    loaded, classes, _ = load_model(path)
    x = {r: torch.randn(3, 3, r, r) for r in RES}
    thumb = torch.randn(3, 3, 32, 32)
    ca, cb = model.choose(thumb), loaded.choose(thumb)
    for k, r in enumerate(RES):
        assert torch.allclose(model.backbone_at(x[r], k), loaded.backbone_at(x[r], k), atol=1e-6)
    assert torch.equal(ca, cb)
    assert classes.ids == classes5().ids and loaded.resolution_bn


def test_bad_checkpoints_give_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="does not exist"):
        read_checkpoint(tmp_path / "none.pt")
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(CheckpointError, match="not a readable"):
        read_checkpoint(junk)
    other = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(1)}, other)
    with pytest.raises(CheckpointError, match="not a drnet-edge checkpoint"):
        read_checkpoint(other)
    good = save_checkpoint(tmp_path / "g.pt", make_checkpoint(tiny_drnet(), classes5(), include_backbone=True))
    with pytest.raises(CheckpointError, match="not resnet50"):
        load_model(good, backbone="resnet50")
    with pytest.raises(CheckpointError, match="trained for resolutions"):
        load_model(good, resolutions=[224, 160])
    truncated = tmp_path / "t.pt"
    truncated.write_bytes(good.read_bytes()[:2000])
    with pytest.raises(CheckpointError):
        read_checkpoint(truncated)
