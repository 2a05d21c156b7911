"""This project's deploy side as wheels for another machine: the wheel of the tree, and its dependencies'
wheels for that machine's Python, CPU and C library, fetched here with pip (so the other machine needs
no index), then installed there with ``pip install --no-index``.

Used by ``drnet-edge verify`` (the emulated aarch64 userland) and by the SSH bench (a board)::

    wheel = project_wheel(cache / "dist")
    house = fill_wheelhouse(wheel, cache / "cp311-aarch64", Platform("3.11", "aarch64", (2, 36)), log_file)
    install_args(f"{venv}/bin/python3", "/tmp/wheels", wheel.name)   # run there
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from ._io import atomic_write_text, sha256_file
from .errors import ConfigError

DIST = "drnet-edge"
# Pinned to this host's versions on the other machine, so both sides run the same runtime release.
PINNED = ("numpy", "ai-edge-litert")
OLDEST_GLIBC_MINOR = 17  # manylinux2014


@dataclass(frozen=True)
class Platform:
    """The other machine, as pip sees it: Python ``major.minor``, ``uname -m`` and its glibc."""

    python: str
    machine: str
    glibc: tuple[int, int]

    @property
    def tag(self) -> str:
        """The wheelhouse folder's name, e.g. ``cp311-aarch64-glibc2.36``."""
        return f"cp{self.python.replace('.', '')}-{self.machine}-glibc{self.glibc[0]}.{self.glibc[1]}"

    def pip_args(self) -> list[str]:
        """``pip download`` flags selecting binary wheels this machine can install (every manylinux
        level its glibc satisfies: pip does not infer older levels from a newer one)."""
        major, minor = self.glibc
        levels = range(OLDEST_GLIBC_MINOR, minor + 1) if major == 2 else ()
        plats = [f"manylinux_2_{m}_{self.machine}" for m in levels] + [f"manylinux2014_{self.machine}"]
        return [
            "--only-binary=:all:",
            *(a for p in plats for a in ("--platform", p)),
            "--python-version", self.python,
            "--implementation", "cp",
        ]  # fmt: skip


PROBE = (
    "import os, platform, sys; v = os.confstr('CS_GNU_LIBC_VERSION') or 'glibc 0.0'; "
    "print(f'{sys.version_info[0]}.{sys.version_info[1]} {platform.machine()} {v.split()[-1]}')"
)  # run by the other machine's Python: one line, e.g. "3.11 aarch64 2.36"


def parse_probe(line: str) -> Platform:
    """The :data:`PROBE` line as a :class:`Platform`."""
    try:
        python, machine, glibc = line.split()
        major, minor = (int(x) for x in glibc.split(".")[:2])
    except ValueError:
        raise ConfigError(f"could not read the other machine's Python and C library from {line!r}") from None
    return Platform(python, machine, (major, minor))


def source_tree() -> Path | None:
    """The checkout this package is installed from (a ``pyproject.toml`` naming drnet-edge beside the
    package), or ``None`` for an install from a wheel."""
    root = Path(__file__).resolve().parent.parent
    pyproject = root / "pyproject.toml"
    if pyproject.is_file() and re.search(r'^name\s*=\s*"drnet-edge"', pyproject.read_text(), re.M):
        return root
    return None


def check_wheel(wheel: Path) -> Path:
    """``wheel`` if it is a drnet-edge wheel file, else a one-line :class:`ConfigError` naming ``--wheel``."""
    if not wheel.is_file() or not wheel.name.startswith("drnet_edge-") or wheel.suffix != ".whl":
        raise ConfigError(f"--wheel {wheel}: not a drnet_edge-*.whl file (pip wheel . in a checkout makes one)")
    return wheel


def project_wheel(dest: Path, wheel: Path | None = None) -> Path:
    """``wheel`` when given (checked), else a wheel built from the source tree into ``dest`` (pip,
    no build isolation: nothing downloaded). An install without its tree needs ``wheel``."""
    if wheel is not None:
        return check_wheel(wheel)
    tree = source_tree()
    if tree is None:
        raise ConfigError(
            "this drnet-edge was installed from a wheel, so there is no source tree to build one from: "
            "pass --wheel FILE (the drnet_edge-*.whl you installed)"
        )
    dest = dest.resolve()
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest, prefix=".build-") as tmp:
        build = Path(tmp) / "build"  # a private build folder: a stale build/ could ship deleted modules
        args = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet",
                "--disable-pip-version-check", "-w", tmp, str(tree)]  # fmt: skip
        done = subprocess.run(args, capture_output=True, text=True, check=False, cwd=tmp,
                              env=_env(build_base=build))  # fmt: skip
        built = sorted(Path(tmp).glob("drnet_edge-*.whl"))
        if done.returncode or not built:
            tail = ((done.stderr + done.stdout).strip().splitlines() or ["no output"])[-1]
            raise ConfigError(f"building the drnet-edge wheel from {tree} failed: {tail}")
        out = dest / built[0].name
        shutil.move(built[0], out)
    return out


def _env(build_base: Path) -> dict[str, str]:
    return {**os.environ, "DIST_EXTRA_CONFIG": str(_setup_cfg(build_base))}


def _setup_cfg(build_base: Path) -> Path:
    build_base.mkdir(parents=True, exist_ok=True)
    cfg = build_base / "setup.cfg"
    cfg.write_text(f"[build]\nbuild_base = {build_base}\n[egg_info]\negg_base = {build_base}\n")
    return cfg


def wheel_digest(wheel: Path) -> str:
    """A sha256 over the wheel's member names and contents: two builds of one tree agree (the zip's own
    bytes differ by their timestamps)."""
    h = hashlib.sha256()
    with zipfile.ZipFile(wheel) as z:
        for name in sorted(z.namelist()):
            h.update(name.encode() + b"\0" + hashlib.sha256(z.read(name)).digest())
    return h.hexdigest()


def host_pins(packages: tuple[str, ...] = PINNED) -> dict[str, str]:
    """This host's versions of ``packages`` (those installed)."""
    out = {}
    for name in packages:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return out


# pip's two ways of saying a requirement has no wheel for the platform (the second when constraints pin it)
_MISSING = (
    re.compile(r"No matching distribution found for ([^\s(]+)"),
    re.compile(r"no matching distributions available for your environment:\s*\n\s*([^\s(]+)"),
)


def fill_wheelhouse(
    wheel: Path, house: Path, platform: Platform, log_file: Path, pins: dict[str, str] | None = None
) -> Path:
    """Every wheel ``wheel`` needs on ``platform`` in ``house`` (kept between runs: pip fetches only what
    is missing), ``wheel`` copied in; ``pins`` (default :func:`host_pins`) fix versions. A dependency
    without a binary wheel for that platform is a one-line :class:`ConfigError` naming it."""
    house.mkdir(parents=True, exist_ok=True)
    pins = host_pins() if pins is None else pins
    constraints = atomic_write_text(house / "constraints.txt", "".join(f"{k}=={v}\n" for k, v in pins.items()))
    args = [sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "--progress-bar", "off",
            *platform.pip_args(), "-c", str(constraints), "-d", str(house), str(wheel)]  # fmt: skip
    with open(log_file, "a") as log:
        log.write(f"\n$ {' '.join(args)}\n")
        log.flush()
        done = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
        log.write(done.stdout)
    if done.returncode:
        raise download_error(done.stdout, platform, pins, log_file)
    if not (house / wheel.name).is_file() or sha256_file(house / wheel.name) != sha256_file(wheel):
        shutil.copy2(wheel, house / wheel.name)
    return house


def install_args(python: str, house: str, wheel_name: str, *, only_project: bool = False) -> list[str]:
    """The command that installs the project from a wheelhouse copied to ``house`` on the other machine,
    with that machine's venv ``python``. ``only_project``: the dependencies are already there."""
    deps = ["--no-deps", "--force-reinstall"] if only_project else []
    return [python, "-m", "pip", "install", "--no-index", "--no-compile", "--disable-pip-version-check",
            "--find-links", house, *deps, f"{house}/{wheel_name}"]  # fmt: skip


def install_steps(python: str, house: str, wheel_name: str, *, installed: bool) -> list[list[str]]:
    """The commands that bring the project at ``house`` (on the other machine) into its venv: when a
    drnet-edge is ``installed`` there already, first the project alone, forced (the version number is the
    same, so pip would keep the old files), then the full install (dependencies added when missing)."""
    first = [install_args(python, house, wheel_name, only_project=True)] if installed else []
    return [*first, install_args(python, house, wheel_name)]


def download_error(stderr: str, platform: Platform, pins: dict[str, str], log_file: Path) -> ConfigError:
    """One line for a failed ``pip download``: the dependency without a wheel for ``platform`` when pip
    names one, else where the log is."""
    missing = next((m for m in (p.search(stderr) for p in _MISSING) if m), None)
    if missing is None:
        return ConfigError(f"pip download of the deploy side's wheels failed; see {log_file}")
    name = re.split(r"[<>=!~;\[]", missing[1])[0]
    pinned = f" {pins[name]} (pinned to this host's version)" if name in pins else ""
    return ConfigError(
        f"no {platform.machine} wheel of {name}{pinned} for Python {platform.python} with glibc "
        f"{platform.glibc[0]}.{platform.glibc[1]} on the package index: that machine cannot install the deploy side "
        f"from wheels; see {log_file}"
    )
