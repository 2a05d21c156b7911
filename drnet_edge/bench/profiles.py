"""Device profiles: how to find a phone among connected devices and how to run on it.

Bundled profiles live in ``drnet_edge/resources/devices.json``; users add or override entries with
``--profiles FILE``, ``$DRNET_EDGE_DEVICES`` (a file) or ``~/.config/drnet-edge/devices.json``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from ..errors import ConfigError


@dataclass(frozen=True)
class DeviceProfile:
    name: str
    description: str = ""
    models: tuple[str, ...] = ()  # ro.product.model values
    big_cores: str | None = None  # taskset mask, hex
    threads: int = 4
    energy: str | None = None  # "odpm", "battery" (phones), "hwmon" (boards) or None
    source: str = "bundled"
    extra: dict = field(default_factory=dict)

    def matches(self, model: str | None) -> bool:
        return model is not None and normalise_model(model) in {normalise_model(m) for m in self.models}

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "description": self.description,
            "models": list(self.models),
            "big_cores": self.big_cores,
            "threads": self.threads,
            "energy": self.energy,
            "source": self.source,
        }


def normalise_model(model: str) -> str:
    """``Pixel_7`` (as ``adb devices -l`` shows it) and ``Pixel 7`` (getprop) compare equal."""
    return model.replace("_", " ").strip().casefold()


GENERIC = DeviceProfile(
    "generic-android", "an Android device without a profile: all cores, 4 threads", source="built-in"
)


def _parse(text: str, source: str) -> dict[str, DeviceProfile]:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"device profiles {source}: not valid JSON ({exc})") from None
    entries = doc.get("profiles") if isinstance(doc, dict) else None
    if not isinstance(entries, dict):
        raise ConfigError(f'device profiles {source}: expected {{"profiles": {{"name": {{...}}}}}}')
    out = {}
    for name, e in entries.items():
        if not isinstance(e, dict) or not isinstance(e.get("models"), list) or not e["models"]:
            raise ConfigError(f"device profiles {source}: profile {name!r} needs a non-empty 'models' list")
        mask = e.get("big_cores")
        if mask is not None:
            try:
                if int(str(mask), 16) <= 0:
                    raise ValueError
            except ValueError:
                raise ConfigError(
                    f"device profiles {source}: profile {name!r}: big_cores must be a hex CPU mask like 'f0', got {mask!r}"
                ) from None
        threads = e.get("threads", 4)
        if not isinstance(threads, int) or threads < 1:
            raise ConfigError(f"device profiles {source}: profile {name!r}: threads must be a positive integer")
        if e.get("energy") not in (None, "odpm", "battery", "hwmon"):
            raise ConfigError(
                f"device profiles {source}: profile {name!r}: energy must be odpm, battery, hwmon or null"
            )
        known = {"description", "models", "big_cores", "threads", "energy"}
        out[name] = DeviceProfile(
            name=name,
            description=str(e.get("description", "")),
            models=tuple(str(m) for m in e["models"]),
            big_cores=str(mask) if mask is not None else None,
            threads=threads,
            energy=e.get("energy"),
            source=source,
            extra={k: v for k, v in e.items() if k not in known},
        )
    return out


def load_profiles(extra: str | Path | None = None) -> dict[str, DeviceProfile]:
    """Bundled profiles, then the user's files in order (later entries override earlier ones)."""
    ref = resources.files("drnet_edge") / "resources" / "devices.json"
    profiles = _parse(ref.read_text(encoding="utf-8"), "bundled devices.json")
    candidates = [
        Path(os.environ.get("XDG_CONFIG_HOME", Path.home() / ".config")) / "drnet-edge" / "devices.json",
        Path(os.environ["DRNET_EDGE_DEVICES"]) if os.environ.get("DRNET_EDGE_DEVICES") else None,
        Path(extra) if extra else None,
    ]
    for path in candidates:
        if path is None:
            continue
        if not path.is_file():
            if path == candidates[0]:
                continue  # the per-user file is optional
            raise ConfigError(f"device profiles file {path} does not exist")
        profiles.update(_parse(path.read_text(encoding="utf-8"), str(path)))
    return profiles


def profile_for_model(profiles: dict[str, DeviceProfile], model: str | None) -> DeviceProfile:
    """The profile listing ``model``, or the generic one."""
    return next((p for p in profiles.values() if p.matches(model)), GENERIC)
