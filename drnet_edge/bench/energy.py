"""Energy counters: read a cumulative counter per rail before and after a timed run.

Every meter returns :class:`EnergyReading` (microjoules per rail, cumulative, plus the time of the
reading in seconds). Energy of a run is the difference of two readings minus the idle power
(measured beforehand over ``idle_s`` seconds) times the run's duration. When no counter is
readable the result is ``None`` with a note saying why: never an estimate.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import DrnetEdgeError


class EnergyUnavailable(DrnetEdgeError):
    """No energy counter can be read on this device; the message says why."""


@dataclass
class EnergyReading:
    t_s: float  # when the counters were read (seconds, any fixed origin)
    rails_uj: dict[str, float]  # cumulative energy per rail (microjoules)


@dataclass
class EnergyMeter:
    """A named counter source. ``read`` returns a reading; ``note`` says what it measures."""

    name: str
    read: Callable[[], EnergyReading]
    note: str
    wrap_uj: dict[str, float] = field(default_factory=dict)  # counter range per rail, for wrap-around
    reliable: bool = True


@dataclass
class IdleBaseline:
    seconds: float
    power_w: dict[str, float]  # per rail

    def to_json(self) -> dict:
        return {"seconds": self.seconds, "power_mw": {k: 1e3 * v for k, v in self.power_w.items()}}


def delta_uj(meter: EnergyMeter, a: EnergyReading, b: EnergyReading) -> dict[str, float]:
    """Per-rail energy between two readings (µJ), handling counter wrap-around."""
    out = {}
    for rail, end in b.rails_uj.items():
        if rail not in a.rails_uj:
            continue
        d = end - a.rails_uj[rail]
        if d < 0 and rail in meter.wrap_uj:
            d += meter.wrap_uj[rail]
        out[rail] = d
    return out


def measure_idle(meter: EnergyMeter, seconds: float, sleep: Callable[[float], None] = time.sleep) -> IdleBaseline:
    """Idle power per rail over ``seconds`` (nothing of ours running)."""
    a = meter.read()
    sleep(seconds)
    b = meter.read()
    dt = max(b.t_s - a.t_s, 1e-9)
    return IdleBaseline(dt, {k: v * 1e-6 / dt for k, v in delta_uj(meter, a, b).items()})


def net_energy_mj(
    meter: EnergyMeter, a: EnergyReading, b: EnergyReading, idle: IdleBaseline | None, count: int = 1
) -> dict[str, float]:
    """Energy above idle per rail and ``total``, in millijoules per unit of ``count``."""
    acc = EnergyAccumulator(meter)
    acc.add(a, b, count)
    return acc.net_mj(idle)  # type: ignore[return-value]  # count >= 1, so never None


# -- local: Intel/AMD RAPL through the Linux powercap interface -----------------------------------

POWERCAP = Path("/sys/class/powercap")


def rapl_meter(root: Path = POWERCAP) -> EnergyMeter:
    """Package-level RAPL zones (``intel-rapl:N``; AMD exposes the same interface). Raises
    :class:`EnergyUnavailable` naming the reason when they are absent or unreadable."""
    if not root.is_dir():
        raise EnergyUnavailable(f"no RAPL counters: {root} does not exist (a VM, a container or a non-x86 CPU)")
    zones = sorted(p for p in root.glob("intel-rapl:*") if p.name.count(":") == 1)
    if not zones:
        raise EnergyUnavailable(f"no RAPL package zones under {root}")
    names, wrap = {}, {}
    for z in zones:
        try:
            (z / "energy_uj").read_text()
        except OSError as exc:
            raise EnergyUnavailable(
                f"{z / 'energy_uj'} is not readable ({exc.strerror}); since Linux 5.10 it needs root: "
                "sudo chmod o+r /sys/class/powercap/intel-rapl:*/energy_uj"
            ) from None
        label = (z / "name").read_text().strip() if (z / "name").is_file() else z.name
        names[z] = f"{label}({z.name})"
        try:
            wrap[names[z]] = float((z / "max_energy_range_uj").read_text())
        except (OSError, ValueError):
            pass

    def read() -> EnergyReading:
        t = time.perf_counter()
        return EnergyReading(t, {names[z]: float((z / "energy_uj").read_text()) for z in zones})

    return EnergyMeter(
        "rapl",
        read,
        "RAPL package counters: the whole CPU package (every process), idle power subtracted",
        wrap_uj=wrap,
    )


@dataclass
class EnergyAccumulator:
    """Sums per-rail energy and time over many short measured intervals (e.g. one per image)."""

    meter: EnergyMeter
    uj: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0
    count: int = 0

    def add(self, a: EnergyReading, b: EnergyReading, count: int = 1) -> None:
        for rail, d in delta_uj(self.meter, a, b).items():
            self.uj[rail] = self.uj.get(rail, 0.0) + d
        self.seconds += b.t_s - a.t_s
        self.count += count

    def net_mj(self, idle: IdleBaseline | None) -> dict[str, float] | None:
        """Millijoules per counted unit above idle, per rail and ``total``; ``None`` if nothing counted."""
        if not self.count:
            return None
        out = {
            rail: (uj - (idle.power_w.get(rail, 0.0) * 1e6 * self.seconds if idle else 0.0)) * 1e-3 / self.count
            for rail, uj in self.uj.items()
        }
        out["total"] = sum(out.values())
        return out
