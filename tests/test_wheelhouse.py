"""The deploy side as wheels for another machine (:mod:`drnet_edge.wheelhouse`): pip's platform flags, the
other machine's probe line, the wheel built from this tree, its content digest, and the one-line errors.
Nothing here reaches a package index: ``pip download`` itself runs only in ``make arm64-check``."""

from __future__ import annotations

import os
import sys
import zipfile
from pathlib import Path

import pytest

from drnet_edge.errors import ConfigError
from drnet_edge.wheelhouse import (
    PROBE,
    Platform,
    check_wheel,
    download_error,
    install_args,
    install_steps,
    parse_probe,
    project_wheel,
    source_tree,
    wheel_digest,
)

BOOKWORM = Platform("3.11", "aarch64", (2, 36))


def test_pip_args_list_every_manylinux_level_the_glibc_meets() -> None:
    args = BOOKWORM.pip_args()
    plats = [args[i + 1] for i, a in enumerate(args) if a == "--platform"]
    assert plats[0] == "manylinux_2_17_aarch64" and "manylinux_2_28_aarch64" in plats
    assert "manylinux_2_36_aarch64" in plats and "manylinux_2_37_aarch64" not in plats
    assert "manylinux2014_aarch64" in plats and "--only-binary=:all:" in args
    assert args[args.index("--python-version") + 1] == "3.11" and BOOKWORM.tag == "cp311-aarch64-glibc2.36"


def test_the_probe_runs_here_and_parses() -> None:
    import subprocess

    line = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True).stdout
    p = parse_probe(line.strip())
    assert p.python == f"{sys.version_info[0]}.{sys.version_info[1]}" and p.glibc[0] == 2
    with pytest.raises(ConfigError, match="could not read"):
        parse_probe("Python 3.11")


def test_a_missing_dependency_wheel_is_named_in_one_line(tmp_path: Path) -> None:
    stderr = (
        "ERROR: Could not find a version that satisfies the requirement numpy==2.4.6 (from drnet-edge) (from versions: "
        "none)\nERROR: No matching distribution found for numpy==2.4.6\n"
    )  # pip 26's words, recorded from `pip download --platform` for a platform without that wheel
    err = str(download_error(stderr, Platform("3.9", "armv7l", (2, 31)), {"numpy": "2.4.6"}, tmp_path / "log"))
    assert "no armv7l wheel of numpy 2.4.6 (pinned to this host's version) for Python 3.9" in err and "\n" not in err
    constrained = (
        "Additionally, some packages in these conflicts have no matching distributions available for your "
        "environment:\n    numpy\n"
    )  # pip 26 when a constraint pins the missing package (recorded from a --no-index run)
    assert "wheel of numpy 2.4.6" in str(download_error(constrained, BOOKWORM, {"numpy": "2.4.6"}, tmp_path / "l"))
    assert "see" in str(download_error("Network is unreachable", BOOKWORM, {}, tmp_path / "log"))


def test_install_args_use_no_index() -> None:
    args = install_args("/opt/v/bin/python3", "/tmp/w", "drnet_edge-0.1.0-py3-none-any.whl", only_project=True)
    assert args[:4] == ["/opt/v/bin/python3", "-m", "pip", "install"] and "--no-index" in args
    assert "--no-deps" in args and args[-1] == "/tmp/w/drnet_edge-0.1.0-py3-none-any.whl"


def test_check_wheel(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--wheel"):
        check_wheel(tmp_path / "drnet_edge-0.1.0-py3-none-any.whl")
    other = tmp_path / "numpy-2.0-py3-none-any.whl"
    other.write_bytes(b"")
    with pytest.raises(ConfigError, match="not a drnet_edge"):
        check_wheel(other)


@pytest.mark.skipif(source_tree() is None, reason="installed from a wheel: no tree to build from")
def test_the_wheel_of_this_tree_and_its_digest(tmp_path: Path) -> None:
    """Built without touching the tree (no build/ left there); the digest ignores zip timestamps."""
    tree = source_tree()
    had_build = (tree / "build").exists()
    wheel = project_wheel(Path(os.path.relpath(tmp_path / "dist")))  # a relative folder, as a script passes
    assert wheel.name.startswith("drnet_edge-") and (tree / "build").exists() == had_build
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        assert "drnet_edge/verify/worker.py" in names and "drnet_edge/converters/base.py" in names
        again = tmp_path / "again" / wheel.name
        again.parent.mkdir()
        with zipfile.ZipFile(again, "w") as out:  # same members, new timestamps
            for name in names:
                out.writestr(name, z.read(name))
    assert wheel_digest(again) == wheel_digest(wheel)
    assert project_wheel(tmp_path / "x", wheel) == wheel  # a given wheel is used as it is


def test_install_steps_force_the_project_when_one_is_there() -> None:
    fresh = install_steps("/v/bin/python", "/w", "drnet_edge-0.1.0-py3-none-any.whl", installed=False)
    again = install_steps("/v/bin/python", "/w", "drnet_edge-0.1.0-py3-none-any.whl", installed=True)
    assert len(fresh) == 1 and "--no-deps" not in fresh[0]
    assert len(again) == 2 and "--force-reinstall" in again[0] and again[1] == fresh[0]
