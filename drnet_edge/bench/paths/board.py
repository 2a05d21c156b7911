"""An ARM64 Linux board reached over SSH: what it is (one probe), which profile applies, and getting this
project's deploy side, the artifacts and the photos onto it, each once (markers say what is already there).

The board's own Python makes a venv under ``~/.cache/drnet-edge/bench`` there; the project's wheel and
its dependencies' wheels for the board (:mod:`drnet_edge.wheelhouse`, fetched on this host) are copied
over and installed with ``pip --no-index``, so the board needs no package index. ``--remote-venv`` names
a venv the user made instead.
"""

from __future__ import annotations

import hashlib
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..._io import sha256_file
from ...errors import ConfigError
from ...wheelhouse import PROBE, Platform, parse_probe
from ..profiles import DeviceProfile
from ..transport.ssh import Ssh, SshError

REMOTE_DIR = ".cache/drnet-edge/bench"  # under the login's home on the board
MIN_PYTHON = (3, 10)
WHEEL_MARKER = ".drnet-edge-wheel"  # in the venv: the content digest of the wheel installed there
# Arm's MIDR part numbers (implementer 0x41) of cores found on boards and servers, for the report.
ARM_PARTS = {
    0xD03: "Cortex-A53", 0xD04: "Cortex-A35", 0xD05: "Cortex-A55", 0xD07: "Cortex-A57", 0xD08: "Cortex-A72",
    0xD09: "Cortex-A73", 0xD0A: "Cortex-A75", 0xD0B: "Cortex-A76", 0xD0C: "Neoverse-N1", 0xD0D: "Cortex-A77",
    0xD40: "Neoverse-V1", 0xD41: "Cortex-A78", 0xD42: "Cortex-A78AE", 0xD44: "Cortex-X1", 0xD46: "Cortex-A510",
    0xD47: "Cortex-A710", 0xD48: "Cortex-X2", 0xD49: "Neoverse-N2", 0xD4B: "Cortex-A78C", 0xD4F: "Neoverse-V2",
}  # fmt: skip

# One ssh round trip: everything the report and the checks need. POSIX sh; every line "key: value".
FACTS_SCRIPT = r"""
echo "home: $(pwd)"
echo "kernel: $(uname -r)"
echo "machine: $(uname -m)"
echo "model: $( (tr -d '\000' < /proc/device-tree/model || cat /sys/devices/virtual/dmi/id/product_name) 2>/dev/null)"
echo "cpu: $(grep -m1 -E '^model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2-)"
echo "parts: $(grep -E '^CPU part' /proc/cpuinfo 2>/dev/null | cut -d: -f2 | tr -d ' ' | tr '\n' ' ')"
echo "cores: $(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN)"
echo "free_kb: $(df -Pk . 2>/dev/null | awk 'NR==2 {print $4}')"
echo "taskset: $(command -v taskset)"
for h in /sys/class/hwmon/hwmon*; do
  [ -d "$h" ] && echo "hwmon: ${h##*/} $(cat "$h/name" 2>/dev/null) $(cd "$h" && ls | grep -E '^(power|energy)[0-9]+_input$' | tr '\n' ' ')"
done
if command -v python3 >/dev/null 2>&1; then echo "python: $(python3 -c "$DRNET_PROBE" 2>&1 | tail -1)"; else echo "python: none"; fi
"""


@dataclass
class BoardFacts:
    """What the probe found on the board."""

    home: str
    kernel: str = ""
    machine: str = ""
    model: str = ""
    cpu: str = ""
    parts: list[str] = field(default_factory=list)
    cores: int = 0
    free_kb: int | None = None
    taskset: bool = False
    hwmon: list[dict] = field(default_factory=list)  # {"id", "name", "inputs": [...]} with power/energy inputs
    python: str = "none"  # the PROBE line, or "none"

    @property
    def cpu_name(self) -> str:
        """``4x Cortex-A76`` from the MIDR parts (``/proc/cpuinfo`` on ARM has no model name), else the name."""
        if self.cpu:
            return self.cpu
        counts: dict[str, int] = {}
        for part in self.parts:
            try:
                name = ARM_PARTS.get(int(part, 16), f"part {part}")
            except ValueError:
                continue
            counts[name] = counts.get(name, 0) + 1
        return " + ".join(f"{n}x {name}" for name, n in counts.items()) or "unknown CPU"

    def platform(self) -> Platform:
        """The board's Python as pip sees it; a one-line error when there is none, or one older than 3.10."""
        if self.python == "none" or not self.python:
            raise ConfigError(
                "no python3 on the board: install Python >= 3.10 with its venv module there "
                "(e.g. apt-get install python3 python3-venv), or pass --remote-venv DIR"
            )
        p = parse_probe(self.python)
        if tuple(int(x) for x in p.python.split(".")) < MIN_PYTHON:
            raise ConfigError(
                f"the board's python3 is {p.python}; drnet-edge needs >= {MIN_PYTHON[0]}.{MIN_PYTHON[1]}: install a newer "
                "Python there, or pass --remote-venv DIR (a venv made with one, drnet-edge installed)"
            )
        return p

    def to_json(self) -> dict:
        return {
            "board": self.model or None, "cpu": self.cpu_name, "cores": self.cores, "kernel": self.kernel,
            "machine": self.machine, "energy_sensors": self.hwmon,
        }  # fmt: skip


def parse_facts(text: str) -> BoardFacts:
    """:data:`FACTS_SCRIPT`'s output as :class:`BoardFacts`."""
    fields_: dict[str, str] = {}
    hwmon = []
    for line in text.splitlines():
        key, sep, value = line.partition(": ")
        if not sep and line.endswith(":"):
            key, value = line[:-1], ""
        value = value.strip()
        if key == "hwmon":
            hid, _, rest = value.partition(" ")
            name, _, inputs = rest.partition(" ")
            if inputs.split():
                hwmon.append({"id": hid, "name": name, "inputs": inputs.split()})
        elif key:
            fields_[key] = value
    if "home" not in fields_:
        raise SshError(f"the board answered the probe with something else: {text.strip()[:200]!r}")

    def as_int(v: str | None) -> int | None:
        return int(v) if v and v.isdigit() else None

    return BoardFacts(
        home=fields_["home"], kernel=fields_.get("kernel", ""), machine=fields_.get("machine", ""),
        model=fields_.get("model", ""), cpu=fields_.get("cpu", ""), parts=fields_.get("parts", "").split(),
        cores=as_int(fields_.get("cores")) or 0, free_kb=as_int(fields_.get("free_kb")),
        taskset=bool(fields_.get("taskset")), hwmon=hwmon, python=fields_.get("python", "none"),
    )  # fmt: skip


def probe_board(ssh: Ssh) -> BoardFacts:
    """Run :data:`FACTS_SCRIPT` there (one connection: reachability and authentication checked too)."""
    return parse_facts(ssh.run(f"DRNET_PROBE={shlex.quote(PROBE)} sh -c {shlex.quote(FACTS_SCRIPT)}"))


GENERIC_BOARD = DeviceProfile(
    "generic-board", "an ARM64 Linux board without a profile: all cores", source="built-in", extra={"kind": "board"}
)


def board_profile(profiles: dict[str, DeviceProfile], facts: BoardFacts, name: str | None) -> DeviceProfile:
    """``--board NAME``, else the board profile whose models name this board, else the generic one."""
    boards = {k: p for k, p in profiles.items() if p.extra.get("kind") == "board"}
    if name is not None:
        if name not in boards:
            raise ConfigError(f"--board {name}: no such board profile; choose from {', '.join(sorted(boards))}")
        return boards[name]
    return next(
        (p for p in boards.values() if any(m.casefold() in facts.model.casefold() for m in p.models)), GENERIC_BOARD
    )


def remote_root(facts: BoardFacts) -> str:
    return f"{facts.home.rstrip('/')}/{REMOTE_DIR}"


Log = Callable[[str], None]


def ensure_install(ssh: Ssh, facts: BoardFacts, *, wheel: Path, cache: Path, log: Log, log_file: Path) -> str:
    """A venv on the board with this very ``wheel`` installed (its digest marks it); its folder there."""
    from ...wheelhouse import fill_wheelhouse, install_steps, wheel_digest

    plat = facts.platform()
    venv = f"{remote_root(facts)}/venv-{plat.tag}"
    digest = wheel_digest(wheel)
    if (ssh.read(f"{venv}/{WHEEL_MARKER}") or "").strip() == digest:
        return venv
    house = fill_wheelhouse(wheel, cache / plat.tag, plat, log_file)
    there = f"{remote_root(facts)}/wheels-{plat.tag}"
    have = set(ssh.run(f"ls {shlex.quote(there)} 2>/dev/null", check=False).split())
    send = {p.name: p for p in sorted(house.glob("*.whl")) if p.name not in have or p.name == wheel.name}
    need_kb = sum(p.stat().st_size for p in send.values()) * 3 // 1024  # the wheels, then unpacked
    if facts.free_kb is not None and facts.free_kb < need_kb:
        raise ConfigError(
            f"{ssh.target}: the board's disk is full for this: {facts.free_kb // 1024} MB free in {facts.home}, the "
            f"deploy side needs about {need_kb // 1024} MB: free some space there"
        )
    log(f"installing the deploy side on {ssh.target}: {len(send)} wheel(s) to copy, then pip --no-index there")
    if send:
        ssh.put_tree({p.name: p for p in send.values()}, there, merge=True)
    q = shlex.quote
    installed = ssh.test(f"-x {q(venv)}/bin/drnet-edge")
    steps = [f"test -x {q(venv)}/bin/python || python3 -m venv {q(venv)}"]
    steps += map(shlex.join, install_steps(f"{venv}/bin/python", there, wheel.name, installed=installed))
    steps.append(f"printf %s {digest} > {q(venv)}/{WHEEL_MARKER}")
    ssh.run(" && ".join(steps))
    return venv


def check_remote_venv(ssh: Ssh, venv: str) -> str:
    """``--remote-venv DIR``: it must hold drnet-edge's command."""
    if not ssh.test(f"-x {shlex.quote(venv)}/bin/drnet-edge"):
        raise ConfigError(
            f"--remote-venv {venv}: no drnet-edge there on {ssh.target}: pip install drnet-edge into it, or drop "
            "--remote-venv and the bench makes its own"
        )
    return venv


def tree_digest(files: dict[str, Path]) -> str:
    """A sha256 over names and contents: the folder's name on the board, so equal inputs are sent once."""
    h = hashlib.sha256()
    for name, path in sorted(files.items()):
        h.update(name.encode() + b"\0" + bytes.fromhex(sha256_file(path)))
    return h.hexdigest()


def send_once(ssh: Ssh, files: dict[str, Path], parent: str) -> str:
    """``files`` in ``parent``/<digest> on the board unless already there (complete: renamed into place)."""
    there = f"{parent}/{tree_digest(files)[:16]}"
    if not ssh.test(f"-d {shlex.quote(there)}"):
        ssh.put_tree(files, there)
    return there
