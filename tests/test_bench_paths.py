"""The bench paths as a registry (one class per way to measure, chosen by the options) and the options a
board's run passes on, generated from :class:`BenchOptions`' own fields: a round trip through the real CLI
gives the same options back, less those applied on this host."""

from __future__ import annotations

import ast
from dataclasses import fields, replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

import drnet_edge.bench
from drnet_edge.bench import BenchOptions
from drnet_edge.bench.options import local_bench_args, passed_on
from drnet_edge.bench.paths import PATHS, BenchPath, Measurement, path_for, register_path
from drnet_edge.bench.paths.board_run import remote_bench_args
from drnet_edge.cli import app
from drnet_edge.errors import ConfigError

BENCH = Path(drnet_edge.bench.__file__).parent


@pytest.mark.parametrize(
    "kwargs, name, kind",
    [
        ({}, "local", "local"),
        ({"device": "pixel7"}, "tools", "android"),
        ({"device": "24121FDH20006S", "app": True}, "app", "android"),
        ({"device": "ssh://pi@board.local:2222"}, "ssh", "ssh"),
    ],
)
def test_the_options_choose_a_registered_path(kwargs: dict, name: str, kind: str) -> None:
    opts = BenchOptions(**kwargs)
    path = path_for(opts)
    assert isinstance(path, PATHS[name]) and path.name == name == opts.path and path.kind == kind == opts.kind


def test_a_new_path_is_one_registered_class(monkeypatch: pytest.MonkeyPatch) -> None:
    """A path registered with the decorator takes its devices, and its name is all a flag needs to apply."""
    monkeypatch.setattr("drnet_edge.bench.paths.base.PATHS", dict(PATHS))

    @register_path
    class Emulator(BenchPath):
        name, kind, words, kind_words = "emu", "emu", "the emulator (--device emu://)", "emulators (--device emu://)"

        @classmethod
        def matches(cls, opts) -> bool:
            return opts.device.startswith("emu://")

        def measure(self, root, manifest, target, opts, previous) -> Measurement:
            return Measurement(device={"name": opts.device, "kind": "emu"}, n=0, skipped_bad=[], threads=1,
                               models={}, policies={}, energy={}, schedule="none")  # fmt: skip

    opts = BenchOptions(device="emu://x", runs=3)  # flags of every path apply
    assert isinstance(path_for(opts), Emulator) and opts.kind == "emu"
    with pytest.raises(ConfigError, match="--app applies only to Android devices .*, not to --device emu://x"):
        BenchOptions(device="emu://x", app=True)
    assert path_for(BenchOptions()).name == "local"  # the others are untouched


def test_paths_refuse_flags_of_other_paths_in_their_words() -> None:
    with pytest.raises(ConfigError, match=r"--op-profile applies to --device local and the phone's benchmark tools"):
        BenchOptions(device="pixel7", app=True, op_profile=True)
    with pytest.raises(ConfigError, match=r"--remote-venv applies only to boards over SSH \(--device ssh://"):
        BenchOptions(remote_venv="/v")
    with pytest.raises(ConfigError, match="--policies is measured by the local bench only"):
        BenchOptions(device="pixel7", policies=("drnet",))
    with pytest.raises(ConfigError, match="--device"):
        BenchOptions(device="ssh://")


def test_measurement_body_keeps_every_key() -> None:
    body = {"models": {"m": {}}, "policies": {"p": {}}, "default_policy": "p", "schedule": "s", "energy": {},
            "tool": {"threads": 2}, "incomplete": None, "warnings": ["w"], "remote": {"run_dir": "/r"}}  # fmt: skip
    m = Measurement.from_body(body, device={}, n=1, skipped_bad=[], threads=2)
    assert m.sections == {"tool": {"threads": 2}, "remote": {"run_dir": "/r"}} and m.warnings == ["w"]
    assert m.body() == body


def _kind_tests(tree: ast.AST, names: set[str]) -> list[str]:
    """The tests of ``if``/``elif``/conditional expressions that compare a ``kind`` or ``path`` (an attribute,
    or a ``.get("kind")``) with one of ``names``, or ask ``on_android``."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.If | ast.IfExp):
            continue
        for cmp in (n for n in ast.walk(node.test) if isinstance(n, ast.Compare)):
            sides = [cmp.left, *cmp.comparators]
            keyed = any(
                (isinstance(x, ast.Attribute) and x.attr in ("kind", "path"))
                or (isinstance(x, ast.Call) and ast.unparse(x).endswith(("get('kind')", "get('path')")))
                for x in sides
            )
            if keyed and any(isinstance(x, ast.Constant) and x.value in names for x in sides):
                found.append(ast.unparse(node.test))
        if "on_android" in ast.unparse(node.test):
            found.append(ast.unparse(node.test))
    return found


def test_bench_has_no_dispatch_on_device_kinds() -> None:
    """No module of bench/ chooses by a device's kind or path name in an if/elif: the registry chooses."""
    names = set(PATHS) | {cls.kind for cls in PATHS.values()}
    found = [
        f"{p.relative_to(BENCH)}: {t}"
        for p in BENCH.rglob("*.py")
        for t in _kind_tests(ast.parse(p.read_text()), names)
    ]
    assert found == []
    assert _kind_tests(ast.parse("if opts.kind == 'ssh':\n    pass\nelif opts.on_android:\n    pass"), names)


# -- the options a board's run passes on ---------------------------------------------------------------


def test_host_only_fields_are_marked() -> None:
    by_name = {f.name: f for f in fields(BenchOptions)}
    assert by_name["limit"].metadata["host"] and by_name["subset"].metadata["host"]
    passed = {f.name for f in fields(BenchOptions) if passed_on(f)}
    assert passed == {"device", "runtime", "data", "threads", "runs", "warmup", "energy", "idle_s", "skip_bad",
                      "policies", "op_profile"}  # fmt: skip


def _parsed_by_the_cli(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> BenchOptions:
    """The BenchOptions the real CLI makes of ``argv`` (run_bench stubbed out)."""
    seen: list[BenchOptions] = []

    class Parsed(Exception):
        pass

    def stop(artifacts, opts):
        seen.append(opts)
        raise Parsed

    monkeypatch.setattr(drnet_edge.bench, "run_bench", stop)
    result = CliRunner().invoke(app, argv)
    assert len(seen) == 1, (result.output, result.exception)  # the CLI reports Parsed as a bug: no matter
    return seen[0]


@pytest.mark.parametrize(
    "given",
    [
        {},
        {"runtime": "onnx", "data": "photos", "limit": 3, "subset": "test:1/5", "threads": 2, "runs": 7, "warmup": 0,
         "energy": True, "idle_s": 1.5, "skip_bad": True, "policies": ("drnet-escalate:0.5", "cascade-48:0.5-64"),
         "profiles": "boards.json", "resume": "r.json", "op_profile": True, "ssh_options": ("IdentityFile=k",),
         "remote_venv": "/opt/venv", "wheel": "w.whl", "board": "rpi5", "progress": False},
    ],
    ids=["defaults", "every-option"],
)  # fmt: skip
def test_board_args_round_trip_through_the_cli(given: dict, monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """options -> the board's argv -> the real CLI -> the same options, less those applied on this host
    (and the board's own: its device is local, its photos and artifacts are the copies there)."""
    monkeypatch.chdir(tmp_path)
    opts = BenchOptions(device="ssh://pi@board.test", **given)
    argv = remote_bench_args(opts, "tflite", "/b/art", "/b/data", 3)
    assert argv[:3] == ["bench", "--artifacts", "/b/art"] and argv[-2:] == ["--json", "report.json"]
    back = _parsed_by_the_cli(argv, monkeypatch)
    there = {"device": "local", "runtime": "tflite", "data": Path("/b/data"), "threads": 3}
    expected = BenchOptions(**{f.name: there.get(f.name, getattr(opts, f.name)) for f in fields(opts) if passed_on(f)})
    assert back == expected
    for f in fields(opts):  # what did not come back is marked host-only or belongs to another path
        if "flag" in f.metadata and f.name not in there and getattr(back, f.name) != getattr(opts, f.name):
            assert f.metadata.get("host") or "local" not in (f.metadata.get("paths") or ("local",)), f.name


def test_local_bench_args_leave_out_what_is_unset() -> None:
    opts = BenchOptions(device="ssh://b", runs=4, skip_bad=True)
    args = local_bench_args(opts, device="local")
    assert args == ["--device", "local", "--runs", "4", "--warmup", "5", "--idle", "3.0", "--skip-bad"]
    assert replace(opts, device="local", ssh_options=()).runs == 4
