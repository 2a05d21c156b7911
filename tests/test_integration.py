"""Integration tier: real Lite0 weights on the shared photos."""

import pytest

from drnet_edge import evaluate

from .conftest import IMAGENET_DEV, needs_shared

pytestmark = [needs_shared, pytest.mark.integration]


def test_lite0_acceptance_on_shared_sample() -> None:
    """Issue #2 acceptance: >= 87.5% top-1 at 224 on the 500 dev photos."""
    report = evaluate(
        IMAGENET_DEV, backbone="efficientnet_lite0", resolutions=[224], policies=["fixed"], progress=False
    )
    assert report.n == 500
    assert report.policies["fixed-224"].top1 >= 0.875


def test_fewer_macs_fewer_correct_on_a_few_photos() -> None:
    report = evaluate(IMAGENET_DEV, backbone="efficientnet_lite0", resolutions="224,96", limit=40, progress=False)
    p = report.policies
    assert p["fixed-96"].macs_m < p["fixed-224"].macs_m / 4
    assert p["oracle"].top1 >= p["fixed-224"].top1 and p["oracle-agree"].top1 == p["fixed-224"].top1


def test_bundled_imagewoof_models_on_held_out_photos() -> None:
    from .conftest import IMAGEWOOF

    report = evaluate(
        IMAGEWOOF, model="lite0-imagewoof", baseline="lite0-imagewoof-base", subset="test:0/5", limit=20, progress=False
    )
    p = report.policies
    assert {"fixed-224", "fixed-128", "drnet", "random", "baseline"} <= set(p)
    assert p["drnet"].resolution_share == p["random"].resolution_share
    assert p["baseline"].macs_m == pytest.approx(p["fixed-224"].macs_m)
    assert report.extra["predictor_macs_m"] < 0.05 * p["fixed-224"].macs_m
