import numpy as np
import pytest

from drnet_edge.errors import ConfigError
from drnet_edge.policies import Predictions, expand_policies, score, smallest_true

RES = [224, 160, 96]
MACS = {224: 300_000_000, 160: 150_000_000, 96: 50_000_000}


def make_preds() -> Predictions:
    # image 0: right everywhere; 1: right at 224 and 160; 2: right only at 224; 3: wrong everywhere
    top1 = np.array([[5, 5, 5], [7, 7, 1], [9, 2, 2], [0, 4, 3]])
    return Predictions(RES, labels=np.array([5, 7, 9, 8]), top1=top1, confidence=np.ones((4, 3)))


def test_smallest_true_falls_back_to_smallest() -> None:
    mask = np.array([[True, True, True], [True, True, False], [False, False, False]])
    assert smallest_true(mask).tolist() == [2, 1, 2]


def test_expand_names() -> None:
    names = [p.name for p in expand_policies(["fixed", "fixed-160", "oracle", "oracle-agree"], RES)]
    assert names == ["fixed-224", "fixed-160", "fixed-96", "oracle", "oracle-agree"]


@pytest.mark.parametrize("bad", ["fixed-100", "fixed-x", "oracle-foo", "bogus", ""])
def test_bad_policy_names(bad: str) -> None:
    with pytest.raises(ConfigError):
        expand_policies([bad], RES)


def test_scores() -> None:
    preds = make_preds()
    pols = {p.name: p for p in expand_policies(["fixed", "oracle", "oracle-agree"], RES)}
    r = score(pols["fixed-224"], preds, MACS)
    assert r.top1 == 0.75 and r.macs_m == 300 and r.resolution_share == {"224": 1.0, "160": 0.0, "96": 0.0}
    o = score(pols["oracle"], preds, MACS)  # picks 96, 160, 224, 96
    assert o.top1 == 0.75 and o.upper_bound and o.macs_m == pytest.approx((50 + 150 + 300 + 50) / 4)
    a = score(pols["oracle-agree"], preds, MACS)  # agree with 224: 96, 160, 224, 224
    assert a.top1 == 0.75 and a.resolution_share["224"] == 0.5
    assert score(pols["fixed-96"], preds, MACS, extra_macs=10_000_000).macs_m == 60
