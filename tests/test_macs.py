import json
import os
from pathlib import Path

import pytest
from torch import nn

from drnet_edge.models.macs import backbone_macs, count_macs


def test_conv_macs_match_definition() -> None:
    conv = nn.Conv2d(3, 8, 3, padding=1, bias=False)
    assert count_macs(conv, 16) == 3 * 8 * 9 * 16 * 16


def test_lite0_macs_and_disk_cache() -> None:
    m224 = backbone_macs("efficientnet_lite0", 224)
    assert m224 == pytest.approx(385.2e6, rel=0.002)
    assert backbone_macs("efficientnet_lite0", 112) < m224 / 3.5
    cache = Path(os.environ["XDG_CACHE_HOME"]) / "drnet-edge" / "macs.json"
    assert json.loads(cache.read_text())["efficientnet_lite0|1000|224"] == m224
