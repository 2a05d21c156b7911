"""A small client over the real ``adb`` executable: device listing, shell, push and pull, with
adb's failure modes turned into clear errors."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from ...errors import DrnetEdgeError

INSTALL_HINT = (
    "install Android's platform tools: `sudo apt install adb` (Debian/Ubuntu), `brew install android-platform-tools` "
    "(macOS) or https://developer.android.com/tools/releases/platform-tools, or point $ADB at the adb executable"
)


class AdbError(DrnetEdgeError):
    """adb is missing or a device cannot be used; the message says what to do."""


class DeviceGone(AdbError):
    """The device disappeared or went offline during a run."""


@dataclass(frozen=True)
class AdbDevice:
    serial: str
    state: str  # device, unauthorized, offline, recovery, ...
    props: dict[str, str] = field(default_factory=dict)  # product, model, device, transport_id, usb

    @property
    def model(self) -> str | None:
        return self.props.get("model")

    def describe(self) -> str:
        model = (self.model or "?").replace("_", " ")
        return f"{self.serial} ({model}, {self.state})"


def parse_devices(text: str) -> list[AdbDevice]:
    """Parse ``adb devices -l``; daemon start-up chatter (lines starting with ``*``) is ignored."""
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("*") or line.startswith("List of devices") or line.startswith("adb server"):
            continue
        parts = line.split()
        if len(parts) < 2:
            continue
        serial, rest = parts[0], parts[1:]
        # the state may be two words ("no permissions (...)"): everything before the first key:value
        state_words = []
        while rest and ":" not in rest[0]:
            state_words.append(rest.pop(0))
        props = dict(p.split(":", 1) for p in rest if ":" in p)
        out.append(AdbDevice(serial, " ".join(state_words) or "unknown", props))
    return out


def _explain(stderr: str, serial: str | None) -> AdbError:
    s = stderr.strip()
    low = s.lower()
    who = f"device {serial}" if serial else "the device"
    if "no devices/emulators found" in low:
        return AdbError("no Android device connected: plug one in with USB debugging on (adb devices -l lists none)")
    if "more than one device" in low:
        return AdbError("several Android devices are connected: pass --device SERIAL (see adb devices -l)")
    if "unauthorized" in low:
        return AdbError(f"{who} is unauthorized: unlock the phone and accept the 'Allow USB debugging' prompt")
    if "not found" in low and "device" in low:
        return DeviceGone(f"{who} is no longer connected ({s.splitlines()[0]})")
    if "offline" in low or "error: closed" in low or "protocol fault" in low:
        return DeviceGone(f"{who} is offline: reconnect the cable or run `adb reconnect`")
    return AdbError(f"adb failed: {s.splitlines()[0] if s else 'no message'}")


class Adb:
    """``adb`` bound to one device serial (or none, for ``devices``)."""

    def __init__(self, exe: str, serial: str | None = None, timeout: float = 900.0) -> None:
        self.exe, self.serial, self.timeout = exe, serial, timeout

    @classmethod
    def find(cls, serial: str | None = None) -> Adb:
        """The adb on ``$ADB`` or ``PATH``; raises :class:`AdbError` with the install hint."""
        exe = os.environ.get("ADB") or shutil.which("adb")
        if not exe or not (Path(exe).is_file() or shutil.which(exe)):
            raise AdbError(f"adb not found on PATH: {INSTALL_HINT}")
        return cls(exe, serial)

    def bound(self, serial: str) -> Adb:
        return Adb(self.exe, serial, self.timeout)

    def _run(self, args: list[str], timeout: float | None = None, check: bool = True) -> subprocess.CompletedProcess:
        cmd = [self.exe] + (["-s", self.serial] if self.serial else []) + args
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout or self.timeout)
        except subprocess.TimeoutExpired:
            raise AdbError(f"`{shlex.join(args)}` did not finish within {timeout or self.timeout:.0f} s") from None
        except OSError as exc:
            raise AdbError(f"cannot run {self.exe}: {exc.strerror}; {INSTALL_HINT}") from None
        if check and proc.returncode != 0 and proc.stderr.strip().startswith(("error:", "adb: ", "adb.exe: ")):
            raise _explain(proc.stderr, self.serial)
        return proc

    def devices(self) -> list[AdbDevice]:
        proc = self._run(["devices", "-l"], timeout=60)
        if proc.returncode != 0:
            raise _explain(proc.stderr or proc.stdout, None)
        return parse_devices(proc.stdout)

    def shell(self, command: str, timeout: float | None = None, check: bool = True) -> str:
        """Run ``command`` in the device shell; returns stdout. A non-zero exit raises unless ``check`` is off."""
        proc = self._run(["shell", command], timeout=timeout)
        if check and proc.returncode != 0:
            detail = (proc.stderr.strip() or proc.stdout.strip()).splitlines()[-3:]
            raise AdbError(f"on {self.serial}: `{command}` exited with {proc.returncode}: {' | '.join(detail)}")
        return proc.stdout

    def push(self, local: str | Path, remote: str) -> None:
        proc = self._run(["push", str(local), remote])
        if proc.returncode != 0:
            raise _explain(proc.stderr or proc.stdout, self.serial)

    def pull(self, remote: str, local: str | Path) -> None:
        proc = self._run(["pull", remote, str(local)])
        if proc.returncode != 0:
            raise _explain(proc.stderr or proc.stdout, self.serial)
