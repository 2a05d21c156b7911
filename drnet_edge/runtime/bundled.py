"""The models shipped inside the package (``--model lite0-imagenet`` works wherever a path does): their
names, files and checksums, read from ``resources/models/models.json``. No PyTorch here: the deploy side
names them (the default model, the one-line errors) without loading any."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from .._io import sha256_file
from ..errors import CheckpointError

DEFAULT_MODEL = "lite0-imagenet"


@dataclass(frozen=True)
class BundledModel:
    name: str
    file: str
    sha256: str
    description: str


def bundled_models() -> dict[str, BundledModel]:
    """The models shipped inside the package, by name (from ``resources/models/models.json``)."""
    ref = resources.files("drnet_edge") / "resources" / "models" / "models.json"
    if not ref.is_file():
        return {}
    return {k: BundledModel(name=k, **v) for k, v in json.loads(ref.read_text()).items()}


def list_models() -> list[str]:
    """Names of the models shipped inside the package."""
    return sorted(bundled_models())


def resolve_model(name_or_path: str | Path) -> Path:
    """A bundled model's file (checked against its sha256) or the given path."""
    models = bundled_models()
    key = str(name_or_path)
    if key in models:
        m = models[key]
        path = Path(str(resources.files("drnet_edge") / "resources" / "models" / m.file))
        if not path.is_file() or sha256_file(path) != m.sha256:
            raise CheckpointError(
                f"bundled model {key} ({path}) is missing or does not match its sha256; reinstall drnet-edge"
            )
        return path
    return Path(name_or_path)
