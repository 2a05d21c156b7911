import json
import re
from pathlib import Path

import numpy as np
import pytest

from drnet_edge.errors import ConfigError
from drnet_edge.policy.registry import (
    Predictions,
    cascade_decision,
    check_policy_syntax,
    expand_policies,
    policy_names,
    smallest_true,
)
from drnet_edge.policy.rows import compare_to_fixed_line, fixed_frontier_at, score, upper_hull
from drnet_edge.policy.spec import DEPLOYED_RULES, Chain, run_cascade, run_spec

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


@pytest.mark.parametrize(
    "bad",
    [
        "fixed-100",
        "fixed-x",
        "oracle-foo",
        "bogus",
        "",
        "cascade",
        "cascade-160",
        "cascade-160-224",  # a non-final stage needs a threshold
        "cascade-160:0.5-224:0.5",  # the last stage always answers
        "cascade-224:0.5-160",  # smallest first
        "cascade-100:0.5-224",  # not a model resolution
        "cascade-160:1.5-224",  # threshold outside (0, 1]
        "cascade-160:0-224",
        "cascade-160:x-224",
        "random-fixed-160",  # a fixed policy has no control
        "drnet-escalate",
        "default",  # the model records none
    ],
)
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


CONF = np.array([[0.9, 0.8, 0.95], [0.9, 0.6, 0.3], [0.9, 0.2, 0.1], [0.9, 0.9, 0.2]])


def test_cascade_replay_counts_every_pass() -> None:
    preds = make_preds()
    preds.confidence = CONF
    pol = expand_policies(["cascade-96:0.9-160:0.7-224"], RES)
    assert [p.name for p in pol] == ["cascade-96:0.9-160:0.7-224", "random-cascade-96:0.9-160:0.7-224"]
    d = pol[0].decide(preds)
    # image 0 accepted at 96; 1 escalates 96 -> 160 -> 224 (0.6 < 0.7); 2 goes to 224; 3 accepted at 160
    assert d.final.tolist() == [2, 0, 0, 1]
    assert d.ran.sum(axis=1).tolist() == [1, 3, 3, 2]
    row = score(pol[0], preds, MACS)
    assert row.top1 == 0.75  # 5 right at 96, 7 right at 224, 9 right at 224, 8 wrong
    assert row.macs_m == pytest.approx((50 + 500 + 500 + 200) / 4)
    assert row.escalation_rate == 0.75 and row.resolution_share == {"224": 0.5, "160": 0.25, "96": 0.25}
    assert row.pass_share == {"224": 0.5, "160": 0.75, "96": 1.0}
    control = score(pol[1], preds, MACS)
    assert control.macs_m == row.macs_m and control.control_of == pol[0].name


# One example per deployable kind (policy spec kind), two where a kind has two signals. A kind registered
# in DEPLOYED_RULES without an example here fails the test below: a new kind cannot skip it.
KIND_EXAMPLES = {
    "fixed": ["fixed-160", "fixed-224"],
    "cascade": ["cascade-128:0.6-224", "cascade-128:0.5-160:0.7-224", "cascade-margin-128:0.3-160:0.4-224"],
    "drnet": ["drnet"],
    "drnet-escalate": ["drnet-escalate:0.6"],
}
GOLDEN = Path(__file__).resolve().parents[1] / "android_demo" / "core" / "src" / "test" / "resources" / "golden"


@pytest.mark.parametrize("kind", sorted(DEPLOYED_RULES))
def test_every_deployable_kind_decides_alike_in_replay_loop_and_android_core(kind: str) -> None:
    """The one rule, in its three shapes: the vectorised replay (eval, calibrate), the per-image deployed
    rule (runtime.loop, predict, the bench: ``run_spec``) on 300 random images, and the Android core's golden
    cases (replayed through ``run_spec`` by test_android_golden.py and through the Java core by its JVM
    tests), which must hold a case of every kind."""
    rng = np.random.default_rng(7)
    n, res = 300, [224, 160, 128]
    logits = rng.normal(size=(n, len(res), 10)) * rng.uniform(0.3, 5.0, size=(n, len(res), 1))
    p = np.exp(logits - logits.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    top2 = np.sort(p, axis=-1)[..., -2:]
    preds = Predictions(res, labels=rng.integers(0, 10, n), top1=p.argmax(-1),
                        confidence=top2[..., 1].astype(np.float32), predictor_choice=rng.integers(0, len(res), n),
                        margin=(top2[..., 1] - top2[..., 0]).astype(np.float32))  # fmt: skip
    for name in KIND_EXAMPLES[kind]:
        pol = expand_policies([name], res, with_controls=False)[0]
        assert pol.spec is not None and pol.spec["kind"] == kind
        d = pol.decide(preds)
        for i in range(n):

            def run_at(k: int, i: int = i) -> tuple[int, float, float]:
                return int(preds.top1[i, k]), float(preds.confidence[i, k]), float(preds.margin[i, k])

            top, final, ran = run_spec(pol.spec, res, run_at, lambda i=i: int(preds.predictor_choice[i]))
            assert (final, sorted(ran)) == (d.final[i], np.flatnonzero(d.ran[i]).tolist()), (name, i)
            assert top == preds.top1[i, d.final[i]]
        assert len({int(x) for x in d.final}) > 1 or kind == "fixed", f"{name}: the random images should split"
    golden = json.loads((GOLDEN / "golden.json").read_text(encoding="utf-8"))
    assert kind in {c["spec"]["kind"] for c in golden["policies"]["cases"]}, f"no golden case of {kind}"


def test_escalating_predictor_and_its_control() -> None:
    preds = make_preds()
    preds.confidence = CONF
    preds.predictor_choice = np.array([2, 2, 1, 1])
    pols = {p.name: p for p in expand_policies(["drnet-escalate:0.5", "drnet", "random"], RES)}
    assert set(pols) == {"drnet-escalate:0.5", "random-drnet-escalate:0.5", "drnet", "random"}
    d = pols["drnet-escalate:0.5"].decide(preds)
    assert d.final.tolist() == [2, 0, 0, 1] and d.ran.sum(axis=1).tolist() == [1, 2, 2, 1]
    assert preds.predictor_choice.tolist() == [2, 2, 1, 1]  # not modified in place
    row = score(pols["drnet-escalate:0.5"], preds, MACS, extra_macs=1_000_000)
    assert row.macs_m == pytest.approx((50 + 350 + 450 + 150) / 4 + 1)


def test_default_names_the_recorded_policy() -> None:
    pols = expand_policies(["default"], RES, default="cascade-160:0.7-224")
    assert [p.name for p in pols] == ["cascade-160:0.7-224", "random-cascade-160:0.7-224"]


def test_dynamic_rows_compared_with_the_fixed_line_and_control() -> None:
    preds = make_preds()
    preds.confidence = CONF
    pols = expand_policies(["fixed", "cascade-96:0.5-224"], RES)
    rows = {p.name: score(p, preds, MACS) for p in pols}
    compare_to_fixed_line(rows)
    row = rows["cascade-96:0.5-224"]
    assert row.macs_m == pytest.approx(275) and row.top1 == 0.75  # 96 for image 0, 224 for the rest
    line = row.extra["vs_fixed_frontier"]
    assert line["between"] == "fixed-160..fixed-224"
    # fixed-160 is right on images 0 and 1, fixed-224 on 0, 1, 2: the line at 275 M is 0.5 + 0.25 * 0.833
    assert line["frontier_top1"] == pytest.approx(0.5 + 0.25 * 125 / 150)
    assert line["delta_pts"] == pytest.approx(100 * (0.75 - line["frontier_top1"]))
    assert row.extra["vs_largest"]["delta_pts"] == pytest.approx(0.0)
    assert "vs_control" in row.extra


def test_eval_breaks_top1_ties_to_the_lower_class_like_the_deployed_runtimes(tiny_folder) -> None:
    """int8 logits tie often: eval must pick the lower class index, as numpy's argmax does in bench,
    verify and the Android core, so eval and bench report the same top-1 on the same files."""
    import torch
    from torch import nn

    from drnet_edge.data.classes import ClassList
    from drnet_edge.data.folders import scan_folder
    from drnet_edge.data.preprocess import Preprocess
    from drnet_edge.models.drnet import DRNet
    from drnet_edge.models.runnable import TorchRunnable
    from drnet_edge.runtime.outputs import predict_folder

    class Tied(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:  # 1,000 classes; 1, 500 and 900 tie for the maximum
            z = torch.zeros(x.shape[0], 1000)
            z[:, [1, 500, 900]] = 2.0
            return z

    classes = ClassList(tuple(map(str, range(1000))), tuple(map(str, range(1000))), "test")
    net = TorchRunnable(DRNet(Tied(), [32, 24], None, Preprocess()), classes)  # a plain PyTorch model, numpy in/out
    preds, _ = predict_folder(net, scan_folder(tiny_folder), [32, 24], Preprocess(), progress=False)
    assert (preds.top1 == 1).all()


def test_the_fixed_frontier_is_the_upper_concave_hull() -> None:
    """A fixed point below the chord of its neighbours is off the frontier: a random mix of the two
    neighbours beats it, so the frontier joins them."""
    pts = [(100.0, 0.50), (200.0, 0.60), (300.0, 0.90), (400.0, 0.92), (250.0, 0.70), (400.0, 0.80)]
    assert [pts[i] for i in upper_hull(pts)] == [(100.0, 0.50), (300.0, 0.90), (400.0, 0.92)]
    assert upper_hull([(1.0, 0.5)]) == [0]

    n = 6
    labels = np.zeros(n, dtype=np.int64)
    right = {224: [1, 1, 1, 1, 1, 0], 192: [1, 1, 0, 0, 0, 0], 160: [1, 1, 1, 1, 0, 0]}  # 192 under the chord
    top1 = np.array([[0 if right[r][i] else 1 for r in (224, 192, 160)] for i in range(n)])
    preds = Predictions([224, 192, 160], labels, top1, np.ones((n, 3)))
    macs = {224: 300, 192: 250, 160: 200}
    rows = {p.name: score(p, preds, macs) for p in expand_policies(["fixed"], [224, 192, 160])}
    line, top, between = fixed_frontier_at(rows, 250e-6)
    assert between == "fixed-160..fixed-224" and top == pytest.approx((4 / 6 + 5 / 6) / 2)
    assert line.shape == (n,) and fixed_frontier_at(rows, 400e-6) is None


def test_a_margin_cascade_compares_the_top2_margin_in_the_replay_and_the_deployed_loop() -> None:
    preds = make_preds()
    preds.confidence = CONF
    preds.margin = CONF[:, ::-1].copy()  # a different signal, so the two rules disagree somewhere
    pol = expand_policies(["cascade-margin-96:0.5-224"], RES, with_controls=False)[0]
    assert pol.spec == {"kind": "cascade", "resolutions": [96, 224], "thresholds": [0.5], "signal": "margin"}
    chain = Chain.from_json(pol.spec)
    assert chain.name == pol.name == "cascade-margin-96:0.5-224"
    d = pol.decide(preds)
    assert (d.final == cascade_decision(preds.margin, chain, RES).final).all()
    assert (d.final != cascade_decision(CONF, chain, RES).final).any()
    signals = np.stack([CONF, preds.margin], axis=2)
    for i in range(4):

        def run(r: int, i: int = i) -> tuple[int, float, float]:
            k = RES.index(r)
            return int(preds.top1[i, k]), float(signals[i, k, 0]), float(signals[i, k, 1])

        _, r, _ = run_cascade(chain, run)
        assert r == RES[d.final[i]]
    with pytest.raises(ConfigError, match="signal"):
        Chain.from_json({**pol.spec, "signal": "entropy"})


@pytest.mark.parametrize(
    "bad, says",
    [
        ("cascade-160:-0.1-224", "threshold -0.1 is negative, outside (0, 1]"),  # not "threshold ''"
        ("cascade-margin-160:-0.2-224", "threshold -0.2 is negative"),
        ("cascade-160:0,8-224", "dot (0.8)"),
        ("cascade-abc:0.5-224", "'abc' is not a whole number"),
        ("random-default", "drnet-edge calibrate"),  # the model records none
    ],
)
def test_bad_policy_names_say_what_is_wrong(bad: str, says: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(says)):
        expand_policies([bad], RES)


def test_default_and_its_control_expand_to_the_recorded_policy() -> None:
    names = [p.name for p in expand_policies(["random-default"], RES, default="cascade-160:0.5-224")]
    assert names == ["random-cascade-160:0.5-224"]
    names = [p.name for p in expand_policies(["default"], RES, default="cascade-margin-96:0.2-224")]
    assert names == ["cascade-margin-96:0.2-224", "random-cascade-margin-96:0.2-224"]


@pytest.mark.parametrize(
    "text, says",
    [("", "names no policy"), (" , ", "names no policy"), ("fixed,cascade-160:0,8-224", "threshold '0,8'")],
)
def test_policy_names_refuse_empty_text_and_decimal_commas(text: str, says: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(says)):
        policy_names(text)
    assert policy_names("fixed, cascade-160:0.8-224,") == ["fixed", "cascade-160:0.8-224"]


@pytest.mark.parametrize("name", ["fixed-100", "cascade-100:0.5-300", "default", "random-default", "baseline"])
def test_the_syntax_check_needs_no_model(name: str) -> None:
    check_policy_syntax([name])  # resolutions and the default policy are the model's business, checked later
