"""Calibration of the default policy: the candidate replay, the objectives, the bound, and the command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from drnet_edge.errors import ConfigError
from drnet_edge.evaluate import evaluate
from drnet_edge.models.checkpoint import load_model, read_checkpoint
from drnet_edge.policy.candidates import candidate_chains, clopper_pearson_upper, photos_needed, pick, replay_candidates
from drnet_edge.policy.crossfit import fold_ids, out_of_fold
from drnet_edge.policy.registry import Predictions
from drnet_edge.policy.selection import select_policy

from .conftest import run_cli

RES = [224, 160, 128]
MACS = {224: 400, 160: 200, 128: 100}


def synthetic(n: int = 400, seed: int = 0) -> Predictions:
    """Low resolutions are right when confident: a cascade can save MACs at no loss."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n)
    conf = rng.uniform(0.2, 1.0, (n, 3))
    top1 = np.repeat(labels[:, None], 3, axis=1)
    wrong = conf < 0.5
    wrong[:, 0] = False  # 224 always right
    top1[wrong] = (labels[:, None].repeat(3, 1)[wrong] + 1) % 10
    return Predictions(RES, labels, top1, conf)


def test_chains_run_smallest_first_and_may_end_below_the_largest() -> None:
    chains = candidate_chains([224, 192, 160, 128])
    assert (160, 224) in chains and (128, 160, 224) in chains and (128, 160, 192, 224) not in chains
    assert (128, 192) in chains and (128, 160, 192) in chains  # escalating one step down costs less
    assert all(list(c) == sorted(set(c)) and 2 <= len(c) <= 3 for c in chains)
    assert len(chains) == len(set(chains)) == 6 + 4  # C(4,2) + C(4,3)


def test_a_chain_ending_below_the_largest_wins_when_that_resolution_is_as_good() -> None:
    """192 as accurate as 224 for the photos 128 is unsure of: escalating to 192 meets the drop for
    less than escalating to 224, and the drop still counts against the largest resolution."""
    rng = np.random.default_rng(1)
    n = 400
    labels = rng.integers(0, 10, n)
    conf = rng.uniform(0.05, 1.0, (n, 3))
    top1 = labels[:, None].repeat(3, 1)
    top1[:, 2][conf[:, 2] < 0.5] = (labels[conf[:, 2] < 0.5] + 1) % 10  # 128 wrong when unsure; 224, 192 right
    preds = Predictions([224, 192, 128], labels, top1, conf)
    macs = {224: 100, 192: 73, 128: 33}
    cands = replay_candidates(preds, macs)
    chosen = pick(cands, max_drop=0.0, target_ratio=None, require_bound=False)
    assert chosen.spec["kind"] == "cascade" and chosen.spec["resolutions"][:2] == [128, 192]
    assert chosen.drop_pts <= 0
    ending_at_224 = [c for c in cands if c.spec.get("resolutions") == [128, 224] and c.drop_pts <= 0]
    assert chosen.macs < min(c.macs for c in ending_at_224)


def test_the_reference_is_the_fixed_candidate_with_most_macs_in_any_order() -> None:
    from drnet_edge.policy.candidates import Candidate, reference

    cands = [
        Candidate("cascade-64:0.5-96", 0.9, 5.0, 0, 0, 10, {"kind": "cascade"}),
        Candidate("fixed-64", 0.8, 4.0, 0, 0, 10, {"kind": "fixed"}),
        Candidate("fixed-96", 0.9, 9.0, 0, 0, 10, {"kind": "fixed"}),
    ]
    assert reference(cands).name == "fixed-96" and reference(cands[::-1]).name == "fixed-96"


def test_max_drop_picks_a_cheap_lossless_cascade() -> None:
    cands = replay_candidates(synthetic(), MACS)
    chosen = pick(cands, max_drop=0.0, target_ratio=None, require_bound=False)
    assert chosen.name.startswith("cascade-") and chosen.drop_pts <= 0 and chosen.macs < 400
    ratio = pick(cands, max_drop=None, target_ratio=0.5, require_bound=False)
    assert ratio.macs <= 200 + 1e-6


def test_bound_is_wider_than_the_estimate_and_says_what_it_needs() -> None:
    assert clopper_pearson_upper(0, 100, 0.05) == pytest.approx(1 - 0.05 ** (1 / 100))  # the rule of three
    assert clopper_pearson_upper(0, 100, 0.05) > 0.029
    n = photos_needed(0.0, 0.5)
    assert n is not None and 550 < n < 750  # about 3 / 0.005
    assert photos_needed(0.01, 0.5) is None  # a loss rate above the bound can not be certified
    cands = replay_candidates(synthetic(), MACS)
    with pytest.raises(ConfigError, match="no policy keeps the 95% bound"):
        pick(cands, max_drop=0.0, target_ratio=None, require_bound=True)


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"max_drop": 0.5, "target_ratio": 0.7}, "exactly one"),
        ({"max_drop": -1.0, "target_ratio": None}, "--max-drop"),
        ({"max_drop": None, "target_ratio": 1.5}, "--target-ratio"),
        ({"max_drop": None, "target_ratio": 0.01}, "raise --target-ratio"),
    ],
)
def test_bad_objectives(kw: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        pick(replay_candidates(synthetic(), MACS), require_bound=False, **kw)


def run(*args: str) -> subprocess.CompletedProcess:
    """The installed entry point in a fresh interpreter (refusals run in-process: :func:`run_cli`)."""
    return subprocess.run([sys.executable, "-m", "drnet_edge", *args], capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_calibrate_writes_a_checkpoint_whose_default_policy_eval_reports(
    tiny: tuple[Path, Path], tmp_path: Path
) -> None:
    ckpt, data = tiny
    out, js = tmp_path / "cal.pt", tmp_path / "cal.json"
    p = run("calibrate", "--model", str(ckpt), "--data", str(data), "--out", str(out), "--target-ratio", "0.8",
            "--json", str(js), "--quiet", "--min-photos", "10", "--folds", "2")  # fmt: skip
    assert p.returncode == 0, p.stderr
    rec = json.loads(js.read_text())
    assert read_checkpoint(out)["policy"]["name"] == rec["name"]
    cal = rec["calibration"]
    assert cal["macs_ratio"] <= 0.8 + 1e-9 and "drop_ucb95_pts" in cal
    assert cal["family"] == rec["spec"]["kind"] and cal["source"]["runtime"] == "pytorch"
    assert set(cal["expected"]) == {"top1", "top1_se", "macs_ratio", "macs_ratio_se"}
    net, _, _ = load_model(out)
    assert net.default_policy == rec["name"]
    report = evaluate(data, model=out, progress=False)
    assert report.default_policy == rec["name"]
    js_report = report.to_json()
    assert js_report["default_policy"] == rec["name"]
    names = set(report.policies)
    assert {"fixed-64", "fixed-48", rec["name"]} <= names
    if rec["name"].startswith(("cascade", "drnet-escalate")):
        assert f"random-{rec['name']}" in names


@pytest.mark.parametrize(
    "args, message",
    [
        (["--max-drop", "0.5", "--target-ratio", "0.7"], "exactly one"),
        (["--target-ratio", "0.01", "--min-photos", "10"], "raise --target-ratio"),
        (["--target-ratio", "0.8"], "fewer than --min-photos 100"),
        (["--target-ratio", "0.8", "--min-photos", "10", "--folds", "1"], "--folds"),
    ],
)
def test_calibrate_refusals_write_nothing(tiny: tuple[Path, Path], tmp_path: Path, args: list, message: str) -> None:
    ckpt, data = tiny
    out = tmp_path / "cal.pt"
    p = run_cli("calibrate", "--model", str(ckpt), "--data", str(data), "--out", str(out), "--quiet", *args)
    assert p.returncode == 2 and message in p.stderr and "Traceback" not in p.stderr
    assert not out.exists()


def test_out_of_fold_selection_follows_the_family_that_carries_the_signal() -> None:
    """Two constructed cases with the same labels: where the low resolutions' confidence tells right
    from wrong the cascade family is chosen; where only the predictor knows (confidences are noise)
    a predictor family is. The families' estimates are out of fold and reported."""
    n, rng = 600, np.random.default_rng(3)
    labels = rng.integers(0, 10, n)
    need = rng.choice(3, n, p=[0.3, 0.3, 0.4])  # index of the smallest resolution that is right (0 = 224)
    top1 = labels[:, None].repeat(3, 1)
    for k in (1, 2):
        top1[need < k, k] = (labels[need < k] + 1) % 10  # wrong below what the photo needs
    honest = np.where(top1 == labels[:, None], rng.uniform(0.6, 1.0, (n, 3)), rng.uniform(0.1, 0.5, (n, 3)))
    noise = rng.uniform(0.1, 1.0, (n, 3))
    paths = [f"/d/c{i % 10}/{i}.png" for i in range(n)]

    by_conf = select_policy(Predictions(RES, labels, top1, honest, paths, rng.integers(0, 3, n)), MACS, max_drop=0.5)
    assert by_conf.family == "cascade" and by_conf.chosen.family == "cascade"
    by_pred = select_policy(Predictions(RES, labels, top1, noise, paths, need.copy()), MACS, max_drop=0.5)
    assert by_pred.family in ("drnet", "drnet-escalate")
    est = by_pred.families
    assert set(est) == {"fixed", "cascade", "drnet", "drnet-escalate"}
    assert est["drnet"]["drop_pts"] == pytest.approx(0.0) and est["drnet"]["macs_ratio"] < 0.6
    assert all(len(e["fold_policies"]) == 5 for e in est.values() if "error" not in e)


def test_out_of_fold_scores_every_photo_once_by_a_policy_chosen_without_it() -> None:
    preds = synthetic(200)
    preds.paths = [f"/photos/c{i % 3}/{i}.jpg" for i in range(preds.n)]
    ids = fold_ids(preds, 4)
    assert (ids == fold_ids(preds, 4)).all() and set(ids) == {0, 1, 2, 3}
    seen: list[set[str]] = []

    def choose(train: Predictions) -> str:
        seen.append(set(train.paths))
        return "cascade-128:0.5-224"

    oof = out_of_fold(preds, choose, MACS, k=4)
    for f, train in enumerate(seen):
        held = {p for p, i in zip(preds.paths, ids, strict=True) if i == f}
        assert held and not held & train and len(held) + len(train) == preds.n
    assert oof.correct.shape == (preds.n,) and oof.policies == ["cascade-128:0.5-224"] * 4
    assert oof.top1 == pytest.approx(1.0)  # in `synthetic`, 128 is right whenever confident, 224 always
    assert set(np.unique(oof.macs)) <= {100.0, 500.0}
