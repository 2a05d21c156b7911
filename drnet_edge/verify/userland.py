"""An aarch64 Debian userland run under qemu-user emulation: finding qemu and binfmt_misc, building the
userland once into a cache folder, and running a command inside it.

Only :func:`setup_machine` and :func:`build_userland` change anything outside the cache folder, and
only when the user asked (``drnet-edge verify --setup`` / ``make arm64-check``): mounting
``binfmt_misc`` and registering qemu's aarch64 handler affect the whole machine. Everything else only
looks, and says in one line what is missing and how to get it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .._io import atomic_write_json, cache_dir, link_or_copy
from ..errors import ConfigError
from ..wheelhouse import DIST, PROBE, fill_wheelhouse, install_steps, parse_probe, wheel_digest

ROOT_ENV = "DRNET_EDGE_ARM64_ROOT"
SUITE = "bookworm"
MIRROR = "http://deb.debian.org/debian"
DEBIAN_PACKAGES = ("python3", "python3-venv", "python3-pip", "ca-certificates")
VENV = "/opt/drnet-edge"  # the venv inside the userland
STAMP = ".drnet-edge-userland.json"  # written last: a folder without it is not a finished userland
BINFMT_DIR = Path("/proc/sys/fs/binfmt_misc")
HANDLER = "qemu-aarch64"
# The ELF header of an aarch64 executable and its mask (as in qemu's qemu-binfmt-conf.sh).
_MAGIC = r"\x7f\x45\x4c\x46\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00"
_MASK = r"\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff"
# Measured on 2 loaded x86-64 cores: debootstrap ~9 min, numpy + ai-edge-litert ~2 min.
BUILD_MINUTES = 10
SETUP_HINT = "drnet-edge verify --setup (or make arm64-check)"

Log = Callable[[str], None]


def default_root() -> Path:
    """The userland folder: ``$DRNET_EDGE_ARM64_ROOT``, else ``~/.cache/drnet-edge/aarch64-bookworm``."""
    env = os.environ.get(ROOT_ENV)
    if env:
        return Path(env).expanduser()
    return cache_dir() / f"aarch64-{SUITE}"


# -- the host: root, qemu, binfmt_misc --------------------------------------------------------------


def find_qemu(search_path: str | None = None, then: str = "") -> Path:
    """The ``qemu-aarch64-static`` binary (on ``search_path``, default ``$PATH``)."""
    found = shutil.which("qemu-aarch64-static", path=search_path)
    if found is None:
        raise ConfigError(
            "qemu-aarch64-static not found (it runs the aarch64 code here): drnet-edge verify --setup installs it "
            f"(apt-get install qemu-user-static, as root) and registers it with binfmt_misc{then}"
        )
    return Path(found)


def check_root(euid: int | None = None) -> None:
    """The userland is entered with chroot, which needs root."""
    if (os.geteuid() if euid is None else euid) != 0:
        raise ConfigError("verify --arch aarch64 runs the models in a chroot, which needs root: run it as root (sudo)")


@dataclass(frozen=True)
class Binfmt:
    """What ``binfmt_misc`` says about qemu's aarch64 handler."""

    mounted: bool
    registered: bool = False
    enabled: bool = False
    flags: str = ""
    interpreter: str = ""

    @property
    def ok(self) -> bool:
        # F: the kernel opens the interpreter at registration, so it works inside a chroot without qemu
        return self.mounted and self.registered and self.enabled and "F" in self.flags


def read_binfmt(binfmt_dir: Path = BINFMT_DIR) -> Binfmt:
    """Read (never write) the state of the aarch64 handler under ``binfmt_dir``."""
    if not (binfmt_dir / "register").exists():
        return Binfmt(mounted=False)
    entry = binfmt_dir / HANDLER
    if not entry.is_file():
        return Binfmt(mounted=True)
    lines = entry.read_text().splitlines()
    fields = dict(line.split(" ", 1) for line in lines if " " in line)
    return Binfmt(
        mounted=True,
        registered=True,
        enabled="enabled" in lines,
        flags=fields.get("flags:", "").strip(),
        interpreter=fields.get("interpreter", "").strip(),
    )


def check_binfmt(binfmt_dir: Path = BINFMT_DIR, then: str = "") -> Binfmt:
    """Raise a one-line :class:`ConfigError` unless aarch64 programs run through qemu (with the F flag)."""
    b = read_binfmt(binfmt_dir)
    if not b.mounted:
        raise ConfigError(
            f"binfmt_misc is not mounted at {binfmt_dir}: mount it and register qemu's aarch64 handler "
            f"(machine-wide), e.g. with {SETUP_HINT}{then}"
        )
    if not b.registered:
        raise ConfigError(f"qemu's aarch64 handler is not registered in {binfmt_dir}: {SETUP_HINT}{then}")
    if not b.enabled:
        raise ConfigError(f"the {HANDLER} binfmt handler is disabled: echo 1 > {binfmt_dir / HANDLER}")
    if "F" not in b.flags:
        raise ConfigError(
            f"the {HANDLER} binfmt handler lacks the F flag (flags {b.flags or 'none'}), so it cannot run in a chroot: "
            f"echo -1 > {binfmt_dir / HANDLER}, then {SETUP_HINT}"
        )
    return b


TOOLS = {"qemu-aarch64-static": "qemu-user-static", "debootstrap": "debootstrap"}  # command -> Debian package


def _stderr() -> int:
    """Where set-up commands' own output goes: stderr (fd 2), never stdout, which a caller may capture
    (board_check.sh's ``ROOT=$(...)`` takes the userland's path from it)."""
    sys.stderr.flush()
    return 2


def install_tools(log: Log, search_path: str | None = None) -> None:
    """``--setup`` on a Debian/Ubuntu host: apt-get install what is missing of qemu-user-static and
    debootstrap (machine-wide, said on the console; apt-get's own output goes to stderr, never stdout);
    elsewhere the one-line errors say what to install."""
    missing = [pkg for cmd, pkg in TOOLS.items() if shutil.which(cmd, path=search_path) is None]
    if not missing or shutil.which("apt-get") is None:
        return
    log(f"machine-wide change: apt-get install {' '.join(missing)}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    args = ["apt-get", "install", "-y", "-q", *missing]
    if subprocess.run(args, env=env, check=False, stdin=subprocess.DEVNULL, stdout=_stderr()).returncode:
        raise ConfigError(f"apt-get install {' '.join(missing)} failed: run apt-get update, then try again")


def setup_machine(qemu: Path, log: Log, binfmt_dir: Path = BINFMT_DIR) -> Binfmt:
    """Mount ``binfmt_misc`` and register qemu's aarch64 handler with the F flag (machine-wide, root)."""
    check_root()
    b = read_binfmt(binfmt_dir)
    if not b.mounted:
        log(f"machine-wide change: mounting binfmt_misc at {binfmt_dir}")
        subprocess.run(["mount", "-t", "binfmt_misc", "binfmt_misc", str(binfmt_dir)], check=True, stdout=_stderr())
        b = read_binfmt(binfmt_dir)
    if b.registered and "F" not in b.flags:
        log(f"machine-wide change: removing the {HANDLER} handler without the F flag")
        (binfmt_dir / HANDLER).write_text("-1")
        b = read_binfmt(binfmt_dir)
    if not b.registered:
        log(f"machine-wide change: registering {qemu} as the interpreter of aarch64 programs (binfmt_misc, flag F)")
        (binfmt_dir / "register").write_text(f":{HANDLER}:M::{_MAGIC}:{_MASK}:{qemu}:F")
    return check_binfmt(binfmt_dir)


# -- the userland ---------------------------------------------------------------------------------------


@dataclass
class Userland:
    """A built userland: its folder and what its stamp says was installed."""

    root: Path
    stamp: dict = field(default_factory=dict)

    @property
    def python(self) -> str:
        """The venv's Python, as a path inside the userland."""
        return f"{VENV}/bin/python3"

    def package(self, name: str) -> str | None:
        return self.stamp.get("pip", {}).get(_norm(name))


def _norm(name: str) -> str:
    return name.lower().replace("_", "-")


def find_userland(root: Path | None = None) -> Userland | None:
    """The cached userland at ``root`` when its stamp says it is complete, else ``None``."""
    root = Path(root) if root is not None else default_root()
    stamp = root / STAMP
    if not stamp.is_file() or not (root / VENV.lstrip("/") / "bin" / "python3").exists():
        return None
    try:
        return Userland(root, json.loads(stamp.read_text()))
    except ValueError:
        return None


def require_userland(root: Path | None = None) -> Userland:
    """The cached userland, or a one-line :class:`ConfigError` saying how to build it."""
    root = Path(root) if root is not None else default_root()
    found = find_userland(root)
    if found is not None:
        return found
    what = "is incomplete (no stamp)" if root.exists() else "does not exist"
    raise ConfigError(
        f"the aarch64 userland {root} {what}: build it once (about {BUILD_MINUTES} minutes, root) with {SETUP_HINT}; "
        f"${ROOT_ENV} moves it"
    )


def _mounts_under(path: Path) -> list[str]:
    """Mount points at or below ``path`` (a leftover /proc of an interrupted debootstrap)."""
    try:
        text = Path("/proc/mounts").read_text()
    except OSError:
        return []
    prefix = str(path.resolve())
    return [p for p in (line.split()[1] for line in text.splitlines()) if p == prefix or p.startswith(prefix + "/")]


def _remove_unfinished(path: Path) -> None:
    mounts = _mounts_under(path)
    if mounts:
        raise ConfigError(f"{path} (an unfinished build) still has mounts ({', '.join(mounts)}): umount them first")
    shutil.rmtree(path, ignore_errors=True)


def build_userland(root: Path, *, log: Log, log_file: Path) -> Userland:
    """Build the userland (Debian, Python and an empty venv) into a temporary folder beside ``root``, then
    rename it onto ``root``. The project goes in afterwards, from wheels (:func:`install_project`)."""
    check_root()
    debootstrap = shutil.which("debootstrap")
    if debootstrap is None:
        raise ConfigError("debootstrap not found: install it (apt-get install debootstrap) to build the userland")
    if root.exists() and find_userland(root) is None:
        raise ConfigError(f"{root} exists but is not a finished userland (no {STAMP}): remove it, or set ${ROOT_ENV}")
    root.parent.mkdir(parents=True, exist_ok=True)
    for old in root.parent.glob(f".{root.name}.building-*"):
        _remove_unfinished(old)
    tmp = root.parent / f".{root.name}.building-{os.getpid()}"
    log(
        f"building the aarch64 userland (Debian {SUITE}, Python) into {root}: first time only, "
        f"about {BUILD_MINUTES} minutes and ~0.5 GB; later runs reuse it. Build log: {log_file}"
    )
    t0 = time.monotonic()
    with open(log_file, "a") as out:
        run = _logged(out, log_file)
        include = ",".join(DEBIAN_PACKAGES)
        args = [debootstrap, "--arch=arm64", "--variant=minbase", f"--include={include}", SUITE, str(tmp), MIRROR]
        timings = {"debootstrap_s": run(args, "debootstrap")}
        shutil.copy("/etc/resolv.conf", tmp / "etc" / "resolv.conf")
        if _copy_local_cas(tmp):  # a proxy's CA the host trusts (pip in the userland goes through it too)
            run(["chroot", str(tmp), "update-ca-certificates"], "update-ca-certificates")
        timings["venv_s"] = run(["chroot", str(tmp), "python3", "-m", "venv", VENV], "creating the venv")
        freeze = _freeze(tmp)
    stamp = {
        "suite": SUITE,
        "arch": "arm64",
        "mirror": MIRROR,
        "debian_packages": list(DEBIAN_PACKAGES),
        "venv": VENV,
        "built": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "build_s": round(time.monotonic() - t0, 1),
        "timings_s": {k: round(v, 1) for k, v in timings.items()},
        "pip": dict(_parse_freeze(freeze)),
    }
    (tmp / STAMP).write_text(json.dumps(stamp, indent=2) + "\n")
    os.replace(tmp, root)
    log(f"aarch64 userland ready at {root} (built in {stamp['build_s'] / 60:.1f} min)")
    return Userland(root, stamp)


def _logged(out, log_file: Path) -> Callable[[list[str], str], float]:
    """A runner of host commands whose output goes to the build log; raises ConfigError on failure."""

    def run(args: list[str], what: str) -> float:
        start = time.monotonic()
        out.write(f"\n$ {' '.join(args)}\n")
        out.flush()
        done = subprocess.run(args, stdout=out, stderr=subprocess.STDOUT, env=_chroot_env(), check=False)
        if done.returncode:
            raise ConfigError(f"{what} failed (exit {done.returncode}); see {log_file}")
        return time.monotonic() - start

    return run


def _freeze(root: Path) -> str:
    cmd = ["chroot", str(root), f"{VENV}/bin/pip", "freeze", "--disable-pip-version-check"]
    return subprocess.run(cmd, capture_output=True, text=True, env=_chroot_env(), check=True).stdout


LOCAL_CAS = Path("/usr/local/share/ca-certificates")


def _copy_local_cas(tmp: Path, source: Path = LOCAL_CAS) -> list[str]:
    """The host's locally added CA certificates, copied into the userland's; their names."""
    cas = sorted(source.glob("*.crt")) if source.is_dir() else []
    dest = tmp / source.relative_to("/")
    dest.mkdir(parents=True, exist_ok=True)
    for ca in cas:
        shutil.copy(ca, dest / ca.name)
    return [ca.name for ca in cas]


def _parse_freeze(text: str) -> list[tuple[str, str]]:
    return [(_norm(n), v) for n, _, v in (line.partition("==") for line in text.splitlines()) if v]


def _chroot_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """A clean environment for commands in the userland (no host venv, no host PYTHONPATH)."""
    env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root", "LANG": "C.UTF-8"}
    passed = {k: v for k, v in os.environ.items() if k.lower() in _PASSED_ENV}  # proxies and package index
    return {**env, **passed, **(extra or {})}


_PASSED_ENV = {"http_proxy", "https_proxy", "no_proxy", "all_proxy", "pip_index_url", "pip_extra_index_url"}


def show_cpu(land: Userland, cpuinfo: str, cpus: int = 1) -> None:
    """Give the userland the ``/proc/cpuinfo`` and ``/sys`` CPU lists of the emulated CPU, as plain files.

    XNNPACK's cpuinfo reads them and refuses to initialise without them, and then LiteRT silently runs
    its own kernels instead of XNNPACK's. Mounting the host's would describe the x86 host (and crashes
    qemu-user here); a phone's are files like these. Nothing may be mounted there."""
    for sub in ("proc", "sys"):
        if os.path.ismount(land.root / sub):
            raise ConfigError(
                f"{land.root / sub} is a mount point: umount it (verify writes the emulated CPU's files there)"
            )
    (land.root / "proc").mkdir(exist_ok=True)
    (land.root / "proc" / "cpuinfo").write_text(cpuinfo)
    cpu_dir = land.root / "sys" / "devices" / "system" / "cpu"
    cpu_dir.mkdir(parents=True, exist_ok=True)
    for name in ("possible", "present", "online"):
        (cpu_dir / name).write_text(f"0-{cpus - 1}\n" if cpus > 1 else "0\n")


@contextlib.contextmanager
def exclusive(land: Userland, log: Log) -> Iterator[None]:
    """One run at a time per userland: each writes its emulated CPU into the shared /proc/cpuinfo."""
    with open(land.root / ".drnet-edge-verify.lock", "w") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log(f"waiting for another drnet-edge verify run using {land.root} to finish")
            fcntl.flock(f, fcntl.LOCK_EX)
        yield


def userland_command(land: Userland, args: list[str], env: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    """The command line and environment that run ``args`` (paths inside the userland) there, with ``env``
    added (e.g. ``QEMU_CPU``, which qemu reads)."""
    return ["chroot", str(land.root), *args], _chroot_env(env)


def check_ready(root: Path | None = None, *, binfmt_dir: Path = BINFMT_DIR, search_path: str | None = None) -> None:
    """Without ``--setup``: qemu, root, binfmt_misc and the userland looked at (nothing changes); the first
    missing part is one line saying what ``--setup`` does about it, the userland build that follows included."""
    root = Path(root) if root is not None else default_root()
    built = find_userland(root) is not None
    then = "" if built else f"; it then builds the aarch64 userland once (about {BUILD_MINUTES} minutes, into {root})"
    find_qemu(search_path, then)
    check_root()
    check_binfmt(binfmt_dir, then)
    require_userland(root)


def ensure_userland(
    root: Path,
    *,
    setup: bool,
    log: Log,
    log_file: Path,
    binfmt_dir: Path = BINFMT_DIR,
    search_path: str | None = None,
) -> Userland:
    """Everything the emulated run needs. With ``setup`` the missing machine-wide parts are set up and the
    userland built; without, each missing part is a one-line :class:`ConfigError` (:func:`check_ready`).
    A finished userland is always reused."""
    if not setup:
        check_ready(root, binfmt_dir=binfmt_dir, search_path=search_path)
    else:
        check_root()
        install_tools(log, search_path)
        setup_machine(find_qemu(search_path), log, binfmt_dir)
    found = find_userland(root)
    if found is not None:
        log(f"reusing the aarch64 userland at {root} (built {found.stamp.get('built', '?')})")
        return found
    return build_userland(root, log=log, log_file=log_file)


def install_project(land: Userland, wheel: Path, *, wheels: Path, log: Log, log_file: Path) -> Userland:
    """This project's deploy side in the userland's venv: ``wheel`` and its dependencies' wheels for the
    userland's Python (fetched on this host into ``wheels``/<platform>, kept), installed there with
    ``pip --no-index``. Skipped when the stamp says this very wheel is installed; the stamp is rewritten."""
    digest = wheel_digest(wheel)
    if land.stamp.get("project", {}).get("digest") == digest:
        return land
    probe = subprocess.run(["chroot", str(land.root), land.python, "-c", PROBE], capture_output=True, text=True,
                           env=_chroot_env(), check=False)  # fmt: skip
    if probe.returncode:
        raise ConfigError(
            f"the userland's Python does not start (exit {probe.returncode}): rebuild it (remove {land.root})"
        )
    target = parse_probe(probe.stdout.strip())
    house = fill_wheelhouse(wheel, wheels / target.tag, target, log_file)
    log(f"installing {wheel.name} and its {target.machine} dependencies into the userland (pip under emulation)")
    t0 = time.monotonic()
    inside = Path("/tmp") / f"wheels-{os.getpid()}"
    shutil.copytree(house, land.root / inside.relative_to("/"), copy_function=link_or_copy, dirs_exist_ok=True)
    try:
        with open(log_file, "a") as out:
            run = _logged(out, log_file)
            installed = land.package(DIST) is not None
            steps = install_steps(land.python, str(inside), wheel.name, installed=installed)
            for i, step in enumerate(steps, 1):
                run(["chroot", str(land.root), *step], f"pip install, step {i} of {len(steps)} (aarch64)")
    finally:
        shutil.rmtree(land.root / inside.relative_to("/"), ignore_errors=True)
    project = {"wheel": wheel.name, "digest": digest, "installed": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
               "install_s": round(time.monotonic() - t0, 1)}  # fmt: skip
    stamp = {**land.stamp, "project": project, "pip": dict(_parse_freeze(_freeze(land.root)))}
    atomic_write_json(land.root / STAMP, stamp)
    log(f"installed in the userland in {project['install_s'] / 60:.1f} min")
    return Userland(land.root, stamp)
