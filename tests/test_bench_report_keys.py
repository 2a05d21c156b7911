"""Every key a bench report had before the bench paths became a registry is still there: the nested key
paths (not the values) of a local report, a report of the phone's tools (the scripted phone), one of the
demo app and one of a board over SSH (the scripted ssh) are compared with those saved in
tests/data/bench_report_keys.json, written from the reports before that change. New keys may come; none
may go.

To write the file again (only for a deliberate change of the report's shape):
``DRNET_WRITE_REPORT_KEYS=1 pytest tests/test_bench_report_keys.py``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from .test_bench import _android, _cli, fake_adb, tiny_artifacts  # noqa: F401 (fixtures)
from .test_board import _bench, board, int8_tflite  # noqa: F401 (fixtures)

KEYS = Path(__file__).parent / "data" / "bench_report_keys.json"
WRITE = os.environ.get("DRNET_WRITE_REPORT_KEYS") == "1"


def key_paths(value: object, prefix: str = "") -> set[str]:
    """``a/b/c`` for every key of every nested dict; a list's dict elements under ``a/[]``."""
    out: set[str] = set()
    if isinstance(value, dict):
        for key, sub in value.items():
            here = f"{prefix}/{key}" if prefix else str(key)
            out.add(here)
            out |= key_paths(sub, here)
    elif isinstance(value, list):
        for sub in value:
            out |= key_paths(sub, f"{prefix}/[]")
    return out


def _check(name: str, report: dict) -> None:
    have = key_paths(report)
    saved = json.loads(KEYS.read_text()) if KEYS.is_file() else {}
    if WRITE:
        saved[name] = sorted(have)
        KEYS.write_text(json.dumps(saved, indent=1, sort_keys=True) + "\n")
        return
    missing = sorted(set(saved[name]) - have)
    assert missing == [], f"{name} report lost keys: {missing}"


def test_key_paths() -> None:
    assert key_paths({"a": {"b": 1, "c": [{"d": 2}, 3]}, "e": []}) == {"a", "a/b", "a/c", "a/c/[]/d", "e"}


def test_local_report_keys(tiny_artifacts: Path, tiny, tmp_path: Path) -> None:  # noqa: F811
    out = tmp_path / "local.json"
    r = _cli(["bench", "--artifacts", str(tiny_artifacts), "--data", str(tiny[1]), "--limit", "4", "--runs", "2",
              "--warmup", "1", "--energy", "--idle", "0.5", "--op-profile", "--policies", "cascade-48:0.5-64",
              "--quiet", "--json", str(out)])  # fmt: skip
    assert r.exit_code == 0, r.output
    _check("local", json.loads(out.read_text()))


def test_phone_tools_report_keys(fake_adb, tiny_artifacts: Path, tiny, tmp_path: Path) -> None:  # noqa: F811
    fake_adb(battery_temps=[412, 396, 371, 365], thermal_status=[0, 0, 0, 0, 1, 0])
    out = tmp_path / "tools.json"
    r = _android(tiny_artifacts, tiny[1], out, "--energy", "--idle", "0.5", "--delegate", "gpu", "--op-profile",
                 "--max-temp", "38", "--temp-timeout", "60", "--limit", "4")  # fmt: skip
    assert r.exit_code == 0, r.output
    _check("tools", json.loads(out.read_text()))


def test_app_report_keys(fake_adb, tiny_artifacts: Path, tiny, tmp_path: Path) -> None:  # noqa: F811
    fake_adb(app_installed=True, app_result="app_results_tiny_gpu.json")
    out = tmp_path / "app.json"
    r = _android(tiny_artifacts, tiny[1], out, "--app", "--delegate", "gpu", "--limit", "4")
    assert r.exit_code == 0, r.output
    _check("app", json.loads(out.read_text()))


@pytest.mark.parametrize("dropped", [False, True], ids=["complete", "connection-dropped"])
def test_board_report_keys(board: Path, int8_tflite: Path, tiny, tmp_path: Path, dropped: bool) -> None:  # noqa: F811
    out = tmp_path / "board.json"
    if dropped:
        (board / ".drop-next-poll").write_text("")
    host = "flaky.test" if dropped else "board.test"  # the scripted ssh drops a poll to flaky.test
    r = _bench(int8_tflite, tiny[1], host, out, "--policies", "cascade-48:0.5-64")
    assert r.exit_code == (3 if dropped else 0), (r.output, r.exception)
    _check("board-incomplete" if dropped else "board", json.loads(out.read_text()))
