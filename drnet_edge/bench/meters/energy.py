"""Energy counters: read a cumulative counter per rail before and after a timed run.

Meters: RAPL on this machine, hwmon power or energy sensors on a board; on an Android phone the On-Device Power Monitor (Pixel 6 and later)
or, as a coarse fallback, the battery's charge counter. Every meter returns :class:`EnergyReading` (microjoules per rail, cumulative, plus the time of the
reading in seconds). Energy of a run is the difference of two readings minus the idle power
(measured beforehand over ``idle_s`` seconds) times the run's duration. When no counter is
readable the result is ``None`` with a note saying why: never an estimate.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ...errors import DrnetEdgeError

if TYPE_CHECKING:
    from ..profiles import DeviceProfile
    from ..transport.adb import Adb


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


# -- boards: Linux hwmon sensors (power*_input in microwatts, energy*_input in microjoules) ---------------

HWMON = Path("/sys/class/hwmon")


def hwmon_meter(root: Path = HWMON, period_s: float = 0.005) -> EnergyMeter:
    """hwmon energy counters where the board has them, else its power sensors integrated over time by a
    sampling thread (every ``period_s``; it runs beside the bench, which the note says). Raises
    :class:`EnergyUnavailable` when ``root`` has neither."""
    energy = sorted(root.glob("hwmon*/energy*_input"))
    power = sorted(root.glob("hwmon*/power*_input"))
    if not energy and not power:
        raise EnergyUnavailable(f"no hwmon power or energy sensor (power*_input, energy*_input) under {root}")
    files = energy or power
    names = {f: f"{_hwmon_name(f.parent)}:{f.name.removesuffix('_input')}" for f in files}
    for f in files:
        try:
            float(f.read_text())
        except (OSError, ValueError) as exc:
            raise EnergyUnavailable(f"{f} is not readable ({exc})") from None
    if energy:

        def read() -> EnergyReading:
            return EnergyReading(time.perf_counter(), {names[f]: float(f.read_text()) for f in energy})

        return EnergyMeter("hwmon", read, f"hwmon energy counters ({', '.join(names.values())}), idle power subtracted")
    integrator = _PowerIntegrator({names[f]: f for f in power}, period_s)
    note = (f"hwmon power sensors ({', '.join(names.values())}) sampled every {1e3 * period_s:.0f} ms and integrated "
            "by a thread beside the bench, idle power subtracted")  # fmt: skip
    return EnergyMeter("hwmon-power", integrator.read, note)


def _hwmon_name(folder: Path) -> str:
    try:
        return (folder / "name").read_text().strip() or folder.name
    except OSError:
        return folder.name


class _PowerIntegrator:
    """Cumulative energy (µJ) per sensor from instantaneous power (µW), trapezoids between samples."""

    def __init__(self, files: dict[str, Path], period_s: float) -> None:
        import threading

        self.files, self.period_s = files, period_s
        self.lock = threading.Lock()
        self.t = time.perf_counter()
        self.last = self._sample()
        self.uj = dict.fromkeys(files, 0.0)
        threading.Thread(target=self._run, name="hwmon-power", daemon=True).start()

    def _sample(self) -> dict[str, float]:
        return {k: float(f.read_text()) for k, f in self.files.items()}

    def _step(self) -> None:
        now, values = time.perf_counter(), self._sample()
        with self.lock:
            dt = now - self.t
            for k, v in values.items():
                self.uj[k] += 0.5 * (v + self.last[k]) * dt
            self.t, self.last = now, values

    def _run(self) -> None:
        while True:
            time.sleep(self.period_s)
            self._step()

    def read(self) -> EnergyReading:
        self._step()
        with self.lock:
            return EnergyReading(self.t, dict(self.uj))


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


# -- Android: the On-Device Power Monitor, else the battery counter -------------------------------

_IIO_LINE = re.compile(r"CH\d+\(T=(\d+)\)\[([^\]]+)\],\s*(\d+)")


def parse_energy_value(text: str) -> tuple[float, dict[str, float]]:
    """``/sys/bus/iio/devices/iio:deviceN/energy_value`` (one or several concatenated):
    (time in seconds, {rail: cumulative µJ}). The counters are micro-watt-seconds since boot."""
    rails, times = {}, []
    for m in _IIO_LINE.finditer(text):
        times.append(int(m.group(1)))
        rails[m.group(2)] = float(m.group(3))
    if not rails:
        raise EnergyUnavailable("the ODPM energy_value files hold no 'CHn(T=..)[RAIL], value' lines")
    return max(times) / 1e3, rails


def odpm_meter(adb: Adb) -> EnergyMeter:
    """The On-Device Power Monitor's cumulative rail counters (Pixel 6 and later)."""
    listing = adb.shell(
        'for d in /sys/bus/iio/devices/iio:device*; do echo "$d $(cat $d/name 2>/dev/null)"; done', check=False
    )
    devs = [ln.split()[0] for ln in listing.splitlines() if len(ln.split()) > 1 and "odpm" in ln.split()[1]]
    if not devs:
        raise EnergyUnavailable(
            "no On-Device Power Monitor on this phone (no iio device named *odpm*; Pixel 6 and later have one)"
        )
    cmd = "cat " + " ".join(f"{d}/energy_value" for d in devs)
    first = adb.shell(cmd, check=False)
    if "Permission denied" in first or not _IIO_LINE.search(first):
        raise EnergyUnavailable(
            f"cannot read {devs[0]}/energy_value as the shell user (it needs root on user builds: `adb root` on a "
            "userdebug build)"
        )

    def read() -> EnergyReading:
        t, rails = parse_energy_value(adb.shell(cmd))
        return EnergyReading(t, rails)

    return EnergyMeter("odpm", read, f"On-Device Power Monitor rails ({', '.join(devs)}), idle power subtracted")


def battery_meter(adb: Adb) -> EnergyMeter:
    """Fallback: battery charge counter (µAh) times voltage: coarse, and meaningless while charging."""
    base = "/sys/class/power_supply/battery"
    cmd = f"cat /proc/uptime {base}/charge_counter {base}/voltage_now"

    def read() -> EnergyReading:
        parts = adb.shell(cmd).split()
        try:
            uptime, charge_uah, volt_uv = float(parts[0]), float(parts[2]), float(parts[3])
        except (IndexError, ValueError):
            raise EnergyUnavailable(f"cannot read {base}/charge_counter and voltage_now") from None
        return EnergyReading(uptime, {"battery": -charge_uah * volt_uv * 1e-6 * 3600.0})

    read()
    usb = "USB powered: true" in adb.shell("dumpsys battery", check=False)
    note = "battery charge counter x voltage: coarse steps, UNRELIABLE" + (
        " (the phone is charging over USB now, which makes it meaningless)" if usb else ""
    )
    return EnergyMeter("battery", read, note, reliable=False)


ENERGY_METERS: dict[str, Callable[[Adb], EnergyMeter]] = {"odpm": odpm_meter, "battery": battery_meter}


def open_android_meter(adb: Adb, profile: DeviceProfile) -> tuple[EnergyMeter | None, str | None]:
    """The profile's meter, else the next one that works; ``(None, reason)`` if none does."""
    order = [profile.energy] if profile.energy else []
    order += [m for m in ENERGY_METERS if m not in order]
    reasons = []
    for name in order:
        try:
            return ENERGY_METERS[name](adb), None
        except EnergyUnavailable as exc:
            reasons.append(f"{name}: {exc}")
    return None, "not measured: " + "; ".join(reasons)
