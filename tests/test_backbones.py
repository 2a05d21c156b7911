from pathlib import Path

import pytest
import torch

from drnet_edge.errors import ConfigError, WeightsError
from drnet_edge.models.backbones import create_backbone, get_backbone_cfg, list_backbones, load_state_dict_file


@pytest.mark.parametrize("name", list_backbones())
def test_every_registered_backbone_builds_and_runs(name: str) -> None:
    cfg = get_backbone_cfg(name)
    model = create_backbone(name, pretrained=False, num_classes=10)
    with torch.no_grad():
        out = model(torch.zeros(1, 3, min(cfg.resolutions), min(cfg.resolutions)))
    assert out.shape == (1, 10)
    assert len(cfg.preprocess.mean) == 3 and cfg.resolutions == tuple(sorted(cfg.resolutions, reverse=True))


@pytest.mark.parametrize("name", ["efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2"])
def test_lite_weights_ship_in_pypi_packages(name: str) -> None:
    model = create_backbone(name)
    assert not model.training
    # a BN running mean of a trained network is not the initial zeros
    assert model.bn1.running_mean.abs().sum() > 0


@pytest.mark.parametrize("name", ["resnet50", "mobilenet_v2", "mobilenet_v3_large"])
def test_torchvision_without_weights_says_how_to_supply_them(name: str, monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    with pytest.raises(WeightsError, match="--weights PATH"):
        create_backbone(name)


def test_user_weights_roundtrip_and_ddp_prefix(tmp_path: Path) -> None:
    src = create_backbone("mobilenet_v2", pretrained=False, num_classes=7)
    f = tmp_path / "w.pth"
    torch.save({"state_dict": {f"module.{k}": v for k, v in src.state_dict().items()}}, f)
    model = create_backbone("mobilenet_v2", weights=f, num_classes=7)
    for a, b in zip(src.state_dict().values(), model.state_dict().values(), strict=False):
        assert torch.equal(a, b)


def test_any_timm_name_with_user_weights(tmp_path: Path) -> None:
    src = create_backbone("resnet10t", pretrained=False, num_classes=5)
    f = tmp_path / "w.pt"
    torch.save(src.state_dict(), f)
    assert create_backbone("resnet10t", weights=f, num_classes=5)(torch.zeros(1, 3, 64, 64)).shape == (1, 5)
    with pytest.raises(WeightsError, match="model hub"):
        create_backbone("resnet10t")


def test_bad_weight_files(tmp_path: Path) -> None:
    with pytest.raises(WeightsError, match="does not exist"):
        load_state_dict_file(tmp_path / "none.pth")
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"\x00garbage")
    with pytest.raises(WeightsError, match="not a readable"):
        load_state_dict_file(junk)
    wrong = tmp_path / "wrong.pth"
    torch.save(create_backbone("mobilenet_v2", pretrained=False, num_classes=3).state_dict(), wrong)
    with pytest.raises(WeightsError, match="shape mismatch"):
        create_backbone("mobilenet_v2", weights=wrong, num_classes=10)


def test_unknown_backbone() -> None:
    with pytest.raises(ConfigError, match="unknown backbone 'nope'.*efficientnet_lite0"):
        get_backbone_cfg("nope")
