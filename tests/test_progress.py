"""Progress off a terminal (plain lines with rate and ETA) and the closing summary of a training run."""

from __future__ import annotations

import io
from pathlib import Path

from drnet_edge.progress import fmt_duration, plain_line, plain_progress
from drnet_edge.train.summary import next_command, predictor_note
from drnet_edge.train.trainer import epoch_line


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_plain_progress_writes_a_line_every_few_percent_at_most_every_ten_seconds() -> None:
    out, clock = io.StringIO(), Clock()
    with plain_progress(100, "epoch 1 (joint)", stream=out, clock=clock) as advance:
        for _ in range(100):
            clock.t += 3.0  # 3 s a step: 5% = 15 s, so a line every 5 steps
            advance(1)
    lines = out.getvalue().splitlines()
    assert len(lines) == 20  # 19 in the loop (5%..95%) and the last one
    assert lines[0] == "epoch 1 (joint): 5/100 (5%) 3.0 s each, 15s elapsed, ETA 4m45s"
    assert lines[-1].endswith("5m00s elapsed, done")


def test_plain_progress_is_silent_for_quick_work_and_throttles_fast_steps() -> None:
    out, clock = io.StringIO(), Clock()
    with plain_progress(1000, "evaluating", stream=out, clock=clock) as advance:
        for _ in range(1000):
            clock.t += 0.001
            advance(1)
    assert out.getvalue() == ""  # a one-second job says nothing
    out, clock = io.StringIO(), Clock()
    with plain_progress(1000, "evaluating", stream=out, clock=clock) as advance:
        for _ in range(1000):
            clock.t += 0.05  # 50 s in all: 5% takes 2.5 s, but lines come at most every 10 s
            advance(1)
    lines = out.getvalue().splitlines()
    assert 4 <= len(lines) <= 6 and "20.0/s" in lines[0]


def test_durations_and_lines_read_naturally() -> None:
    assert [fmt_duration(s) for s in (5, 75, 3725)] == ["5s", "1m15s", "1h02m"]
    assert plain_line("x", 0, 10, 1.0).endswith("no step done, 1s elapsed, ETA ?")
    line = epoch_line(1, 6, "multi", {"loss": 1.25, "seconds": 130.0, "phase": "multi"}, [120.0, 130.0])
    assert line == "epoch 2/6 [multi] 2m10s (about 8m20s left) loss=1.25"


def report(share: dict[str, float], top1: float, random_top1: float) -> dict:
    return {
        "policies": {
            "drnet": {"resolution_share": share, "macs_m": 200.0, "top1": top1},
            "random": {"resolution_share": share, "macs_m": 200.0, "top1": random_top1},
        }
    }


def test_the_summary_says_when_the_predictor_learned_little() -> None:
    one_sided = predictor_note(report({"224": 0.02, "160": 0.95, "128": 0.03}, 0.8, 0.79))
    assert one_sided and "sends 95% to 160 px: it learned little" in one_sided and "own-data.md" in one_sided
    no_better = predictor_note(report({"224": 0.5, "160": 0.5}, 0.8, 0.81))
    assert no_better and "no better than its random control" in no_better
    fine = predictor_note(report({"224": 0.5, "160": 0.5}, 0.85, 0.80))
    assert fine and "learned little" not in fine and "224: 50%, 160: 50%" in fine
    assert predictor_note({"policies": {"fixed-224": {}}}) is None


def test_the_summary_names_the_next_command() -> None:
    assert "drnet-edge calibrate --model runs/d.pt" in next_command("joint", Path("runs/d.pt"), None)
    assert "--out runs/d-cal.pt" in next_command("predictor", Path("runs/d.pt"), None)
    assert "--baseline runs/b.pt --data val" in next_command("plain", Path("runs/b.pt"), Path("val"))
