"""Run converted artifacts (any target) as a DRNet: predictor on the thumbnail, then the backbone
of the chosen resolution. Every file is checked against the manifest's sha256 before loading."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from .checkpoint import sha256_file
from .convert import read_manifest
from .data import ClassList
from .errors import ArtifactError, ConfigError
from .preprocess import Preprocess

if TYPE_CHECKING:
    from drnet_edge.converters.base import Runner


def verify_artifacts(artifacts: str | Path, target: str) -> dict[str, Any]:
    """The manifest, after checking that ``target``'s files are all there, unaltered, and alone."""
    root = Path(artifacts)
    manifest = read_manifest(root)
    if target not in manifest["targets"]:
        raise ArtifactError(f"{root} holds no {target} models (it has: {', '.join(manifest['targets']) or 'none'})")
    models = manifest["targets"][target]["models"]
    listed = {m["file"] for m in models.values()}
    for name, m in models.items():
        path = root / m["file"]
        if not path.is_file():
            raise ArtifactError(f"{path} ({name}) is missing; reconvert with drnet-edge convert")
        if sha256_file(path) != m["sha256"]:
            raise ArtifactError(f"{path} ({name}) does not match its sha256 in the manifest: altered or corrupt")
    extra = sorted(
        str(p.relative_to(root))
        for p in (root / target).rglob("*")
        if p.is_file() and str(p.relative_to(root)) not in listed
    )
    if extra:
        raise ArtifactError(f"{root}: files not in the manifest: {', '.join(extra)}; remove them or reconvert")
    return manifest


class ArtifactDRNet:
    """Converted models with the interface :func:`drnet_edge.evaluate.predict_folder` uses."""

    def __init__(self, artifacts: str | Path, target: str, threads: int | None = None) -> None:
        from drnet_edge.converters import get_target

        t = get_target(target)
        t.check_installed()
        self.manifest = verify_artifacts(artifacts, target)
        self.target = target
        self.root = Path(artifacts)
        m = self.manifest
        self.resolutions: list[int] = list(m["resolutions"])
        self.backbone_name: str = m["backbone"]
        self.preprocess = Preprocess.from_dict(m["preprocess"])
        self.thumb_size: int = m.get("predictor_input") or 0
        self.classes = ClassList(tuple(m["classes"]["ids"]), tuple(m["classes"]["names"]), "the artifacts' class list")
        models = m["targets"][target]["models"]
        self.precision = m["targets"][target]["precision"]
        self.threads = threads
        self.load_ms: dict[str, float] = {}  # wall time to load each model into its runtime
        self._runners = {}
        for name, info in models.items():
            t0 = time.perf_counter()
            self._runners[name] = t.load(self.root / info["file"], threads, entry=info.get("entry"))
            self.load_ms[name] = 1e3 * (time.perf_counter() - t0)
        self.predictor = self._runners.get("predictor")
        self.models = models

    def eval(self) -> ArtifactDRNet:
        return self

    def backbone_at(self, x: torch.Tensor, k: int) -> torch.Tensor:
        name = f"backbone_{self.resolutions[k]}"
        if name not in self._runners:
            raise ConfigError(f"no {name} in the artifacts")
        return torch.from_numpy(self._runners[name](x.numpy()))

    def choose(self, thumb: torch.Tensor) -> torch.Tensor:
        if self.predictor is None:
            return torch.zeros(thumb.shape[0], dtype=torch.long)
        return torch.from_numpy(np.asarray(self.predictor(thumb.numpy())).argmax(1))

    def predictor_macs(self) -> int:
        return int(self.models["predictor"]["macs"]) if "predictor" in self.models else 0

    def runner(self, name: str) -> Runner:
        """The loaded runner of model ``name`` (``predictor`` or ``backbone_<R>``)."""
        if name not in self._runners:
            raise ConfigError(f"no {name} in the artifacts (they hold: {', '.join(self._runners)})")
        return self._runners[name]

    def backbone_macs(self, resolution: int) -> int:
        return int(self.models[f"backbone_{resolution}"]["macs"])
