"""Temperature-gated rounds on the phone (``--max-temp``, ``--temp-timeout``).

Before each round the bench reads the battery temperature (``dumpsys battery``: ``temperature: 297``
is tenths of a degree C) and waits, up to ``--temp-timeout`` seconds, until it is at or below
``--max-temp``. During the round it reads the platform's thermal status (``dumpsys thermalservice``:
``Thermal Status: N``, PowerManager's 0 NONE, 1 LIGHT, 2 MODERATE, 3 SEVERE, 4 CRITICAL, 5 EMERGENCY,
6 SHUTDOWN) before the round and after each model; a round whose status reached LIGHT or above is
**throttled**, and the report flags it. Where no temperature reads, ``--cooldown`` is the fallback
and the report says so.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from ...errors import DrnetEdgeError

if TYPE_CHECKING:
    from ..transport.adb import Adb

STATUS_NAMES = ("NONE", "LIGHT", "MODERATE", "SEVERE", "CRITICAL", "EMERGENCY", "SHUTDOWN")
LIGHT = 1
POLL_S = 10.0  # seconds between temperature reads while waiting for the phone to cool


class ThermalUnavailable(DrnetEdgeError):
    """The phone reports no temperature (or no thermal status); the message says which."""


_BATTERY_TEMP = re.compile(r"^\s*temperature:\s*(-?\d+)\s*$", re.MULTILINE)
_STATUS = re.compile(r"^\s*Thermal Status:\s*(\d+)\s*$", re.MULTILINE)


def parse_battery_temperature(text: str) -> float:
    """Degrees C from ``dumpsys battery`` (its ``temperature:`` is in tenths of a degree)."""
    m = _BATTERY_TEMP.search(text)
    if not m:
        raise ThermalUnavailable("dumpsys battery shows no 'temperature:' line (no battery temperature sensor)")
    return int(m.group(1)) / 10.0


def parse_thermal_status(text: str) -> int:
    """``Thermal Status: N`` from ``dumpsys thermalservice`` (0 NONE ... 6 SHUTDOWN)."""
    m = _STATUS.search(text)
    if not m:
        raise ThermalUnavailable(
            "dumpsys thermalservice shows no 'Thermal Status:' line (Android 10 and later have it)"
        )
    return int(m.group(1))


def status_name(status: int | None) -> str:
    if status is None:
        return "n/a"
    return STATUS_NAMES[status] if 0 <= status < len(STATUS_NAMES) else str(status)


@dataclass
class RoundThermal:
    """One round's thermal record."""

    round: int
    battery_c: float | None = None  # when the round started (after any wait)
    waited_s: float = 0.0
    cooled: bool | None = None  # reached --max-temp before the time limit (None: not gated)
    status_start: int | None = None
    status_max: int | None = None

    @property
    def throttled(self) -> bool:
        return self.status_max is not None and self.status_max >= LIGHT

    def to_json(self) -> dict:
        return asdict(self) | {"throttled": self.throttled, "status_max_name": status_name(self.status_max)}


@dataclass
class ThermalLog:
    """Reads the phone's temperature and thermal status for the rounds, and gates them on ``max_temp_c``."""

    adb: Adb
    max_temp_c: float | None = None
    timeout_s: float = 600.0
    sleep: Callable[[float], None] = time.sleep
    rounds: list[RoundThermal] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    _unreadable: set[str] = field(default_factory=set)  # dumpsys services that gave no reading: not asked again

    @property
    def _no_temp(self) -> bool:
        return "battery" in self._unreadable

    @property
    def _no_status(self) -> bool:
        return "thermalservice" in self._unreadable

    def _read(self, service: str, parse: Callable[[str], Any]) -> Any:
        """``parse`` of ``dumpsys SERVICE``, or ``None`` (once it failed: said in ``notes``, never asked again)."""
        if service in self._unreadable:
            return None
        try:
            return parse(self.adb.shell(f"dumpsys {service}", check=False))
        except ThermalUnavailable as exc:
            self._unreadable.add(service)
            self.notes.append(str(exc))
            return None

    def temperature(self) -> float | None:
        return self._read("battery", parse_battery_temperature)

    def status(self) -> int | None:
        return self._read("thermalservice", parse_thermal_status)

    @property
    def gated(self) -> bool:
        """Whether rounds wait for the temperature (``--max-temp`` given and a sensor reads)."""
        return self.max_temp_c is not None and not self._no_temp

    def start_round(self, k: int) -> RoundThermal:
        """Before round ``k``: wait (when gated) until the battery is cool enough, then record."""
        rec = RoundThermal(k + 1)
        temp = self.temperature()
        if self.max_temp_c is not None and temp is not None:
            while temp is not None and temp > self.max_temp_c and rec.waited_s < self.timeout_s:
                step = min(POLL_S, self.timeout_s - rec.waited_s)
                self.sleep(step)
                rec.waited_s += step
                temp = self.temperature()
            rec.cooled = temp is not None and temp <= self.max_temp_c
        rec.battery_c = temp
        rec.status_start = rec.status_max = self.status()
        self.rounds.append(rec)
        return rec

    def during_round(self) -> None:
        """After each model of the current round: the highest thermal status seen in it."""
        status = self.status()
        rec = self.rounds[-1]
        if status is not None:
            rec.status_max = status if rec.status_max is None else max(rec.status_max, status)

    def to_json(self) -> dict:
        throttled = [r.round for r in self.rounds if r.throttled]
        not_cooled = [r.round for r in self.rounds if r.cooled is False]
        if self.max_temp_c is None:
            gate = "not gated (pass --max-temp C to wait for the battery to cool before each round)"
        elif self._no_temp:
            gate = "--max-temp asked for, but no battery temperature reads: --cooldown is the only pause between runs"
        else:
            gate = f"each round waited until the battery was at or below {self.max_temp_c:g} C (at most {self.timeout_s:g} s)"
        return {
            "max_temp_c": self.max_temp_c,
            "timeout_s": self.timeout_s,
            "gate": gate,
            "sensor": None if self._no_temp else "dumpsys battery (battery temperature, tenths of a degree C)",
            "status_source": None if self._no_status else "dumpsys thermalservice (Thermal Status)",
            "throttled_rounds": throttled,
            "rounds_not_cooled": not_cooled,
            "notes": list(self.notes),
            "rounds": [r.to_json() for r in self.rounds],
        }
