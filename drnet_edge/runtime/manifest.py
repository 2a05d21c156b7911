"""The artifact directory's ``manifest.json``: one typed reader and writer for every consumer.

``convert`` writes it; the runtime, ``bench`` (local and Android) and the Android golden vectors read
it. Models are addressed by role (``predictor``) and by **resolution index**, never by parsing file
or model names. Every file is listed with its sha256 and checked before it is loaded.

Format versions: 1 (no policy section: a DRNet runs its predictor's choice) and 2 (adds
``policy``: the default policy chosen by calibration, e.g. a cascade's chain and thresholds). From
version 2 a target may carry its own ``policy`` (``targets.<name>.policy``, same schema), written by
``drnet-edge calibrate --artifacts`` from that target's converted files; it takes precedence over the
top-level one (copied from the checkpoint) for that target: see :meth:`Manifest.policy_for`. A
newer version than this reader knows is refused with a message saying to upgrade.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._io import atomic_write_json, replace_dir, sha256_file, staging_dir
from ..data.classes import ClassList
from ..data.preprocess import Preprocess
from ..errors import ArtifactError, ConfigError

MANIFEST_FORMAT = "drnet-edge/artifacts"
MANIFEST_VERSION = 2
READABLE_VERSIONS = (1, 2)

_REQUIRED_TOP = ("format", "version", "backbone", "resolutions", "preprocess", "classes", "targets")
_REQUIRED_TARGET = ("precision", "models")
_REQUIRED_MODEL = ("file", "sha256", "macs", "input_size")


@dataclass(frozen=True)
class ModelEntry:
    """One converted module: its file, checksum, MACs, input size and role."""

    name: str
    file: str
    sha256: str
    macs: int
    input_size: int
    resolution_index: int | None  # None for the predictor
    precision: str = "fp32"
    entry: str | None = None  # entry point inside a multi-entry file (shared weights)
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def is_predictor(self) -> bool:
        return self.resolution_index is None

    @property
    def input_spec(self) -> dict[str, Any] | None:
        """The input tensor as converted (dtype, quantisation) when the manifest records it: what
        ``preprocess.to_model_input`` fills from the pixels (None: the normalised float array)."""
        return self.raw.get("input")


@dataclass(frozen=True)
class TargetEntry:
    """Everything one target (tflite, executorch, onnx) holds."""

    name: str
    precision: str
    route: str
    models: dict[str, ModelEntry]
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def predictor(self) -> ModelEntry | None:
        return next((m for m in self.models.values() if m.is_predictor), None)

    @property
    def policy(self) -> dict[str, Any] | None:
        """The policy calibrated on this target's converted files, when one was (else None)."""
        return self.raw.get("policy")

    def backbone(self, index: int) -> ModelEntry:
        """The backbone for resolution index ``index``."""
        for m in self.models.values():
            if m.resolution_index == index:
                return m
        raise ArtifactError(f"the {self.name} artifacts hold no backbone for resolution index {index}")

    def backbones(self) -> list[ModelEntry]:
        """Backbones in resolution-index order (largest resolution first)."""
        return sorted((m for m in self.models.values() if not m.is_predictor), key=lambda m: m.resolution_index or 0)


@dataclass(frozen=True)
class Manifest:
    """A parsed, validated ``manifest.json``."""

    version: int
    backbone: str
    resolutions: list[int]
    preprocess: Preprocess
    classes: ClassList
    targets: dict[str, TargetEntry]
    predictor_input: int | None = None
    resolution_bn: bool = True
    source_model: str = ""
    passes: dict[str, dict[str, Any]] | None = None  # convert --pass-from: resolution -> {"model", "sha256"}
    policy: dict[str, Any] | None = None  # version 2: the default policy (see drnet_edge.policy.registry)
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def target(self, name: str, root: str | Path = "") -> TargetEntry:
        if name not in self.targets:
            where = f"{root} " if root else ""
            raise ArtifactError(f"{where}holds no {name} models (it has: {', '.join(self.targets) or 'none'})")
        return self.targets[name]

    def policy_for(self, target: str) -> dict[str, Any] | None:
        """The default policy that ``target``'s files run: the one calibrated on them
        (``targets.<target>.policy``) when there is one, else the checkpoint's (top-level ``policy``)."""
        t = self.targets.get(target)
        own = t.policy if t is not None and self.version >= 2 else None
        return own if own is not None else self.policy

    def to_json(self) -> dict[str, Any]:
        out = dict(self.raw)
        out["version"] = self.version
        if self.policy is not None:
            out["policy"] = self.policy
        return out

    @classmethod
    def from_json(cls, d: dict[str, Any], source: str = "manifest.json") -> Manifest:
        """Validate and parse; every missing key is named in the error."""
        if not isinstance(d, dict) or d.get("format") != MANIFEST_FORMAT:
            raise ArtifactError(f"{source} is not a drnet-edge manifest (format {MANIFEST_FORMAT!r} expected)")
        _require(d, _REQUIRED_TOP, source)
        version = d["version"]
        if not isinstance(version, int) or version not in READABLE_VERSIONS:
            newest = max(READABLE_VERSIONS)
            if isinstance(version, int) and version > newest:
                raise ArtifactError(
                    f"{source} has manifest version {version}, newer than this drnet-edge reads ({newest}): "
                    "upgrade drnet-edge, or reconvert with this version"
                )
            raise ArtifactError(f"{source}: unknown manifest version {version!r} (readable: {READABLE_VERSIONS})")
        classes = d["classes"]
        _require(classes, ("ids", "names"), f"{source} 'classes'")
        targets = {}
        for tname, t in d["targets"].items():
            _require(t, _REQUIRED_TARGET, f"{source} target {tname!r}")
            models = {}
            for mname, m in t["models"].items():
                _require(m, _REQUIRED_MODEL, f"{source} model {tname}/{mname}")
                models[mname] = ModelEntry(
                    name=mname,
                    file=m["file"],
                    sha256=m["sha256"],
                    macs=int(m["macs"]),
                    input_size=int(m["input_size"]),
                    resolution_index=m.get("resolution_index", _index_from_legacy_name(mname, d["resolutions"])),
                    precision=m.get("precision", t["precision"]),
                    entry=m.get("entry"),
                    raw=m,
                )
            targets[tname] = TargetEntry(tname, t["precision"], t.get("route", "default"), models, raw=t)
        pre = dict(d["preprocess"])
        pre.pop("layout", None)
        return cls(
            version=version,
            backbone=d["backbone"],
            resolutions=[int(r) for r in d["resolutions"]],
            preprocess=Preprocess.from_dict(pre),
            classes=ClassList(tuple(classes["ids"]), tuple(classes["names"]), "the artifacts' class list"),
            targets=targets,
            predictor_input=d.get("predictor_input") or None,
            resolution_bn=bool(d.get("resolution_bn", True)),
            source_model=str(d.get("source_model", "")),
            passes=d.get("passes") or None,
            policy=d.get("policy") if version >= 2 else None,
            raw=d,
        )


def _require(d: Any, keys: tuple[str, ...], where: str) -> None:
    if not isinstance(d, dict):
        raise ArtifactError(f"{where} is not a JSON object")
    missing = [k for k in keys if k not in d]
    if missing:
        raise ArtifactError(f"{where} lacks required key(s) {', '.join(map(repr, missing))}; reconvert the artifacts")


def _index_from_legacy_name(name: str, resolutions: list[int]) -> int | None:
    """Version-1 manifests written before ``resolution_index`` existed: ``backbone_<R>``."""
    if name == "predictor":
        return None
    r = name.rpartition("_")[2]
    if r.isdigit() and int(r) in resolutions:
        return list(resolutions).index(int(r))
    raise ArtifactError(f"manifest model {name!r} has no resolution_index; reconvert the artifacts")


def read_manifest(artifacts: str | Path) -> Manifest:
    """Read and validate ``<artifacts>/manifest.json``."""
    path = Path(artifacts) / "manifest.json"
    if not path.is_file():
        raise ArtifactError(
            f"{artifacts} is not an artifact directory (no manifest.json); create one with drnet-edge convert"
        )
    try:
        data = json.loads(path.read_text())
    except ValueError as exc:
        raise ArtifactError(f"{path} is not valid JSON: {exc}") from exc
    return Manifest.from_json(data, str(path))


def write_manifest(root: str | Path, manifest: dict[str, Any] | Manifest) -> Path:
    """Write ``manifest.json`` atomically after validating it (a dict is parsed first)."""
    m = manifest if isinstance(manifest, Manifest) else Manifest.from_json(manifest, "the manifest being written")
    return atomic_write_json(Path(root) / "manifest.json", m.to_json())


def write_target_policy(
    artifacts: str | Path, target: str, policy: dict[str, Any], out: str | Path | None = None
) -> Path:
    """Record ``policy`` as the one ``target``'s files run (``targets.<target>.policy``) in the
    manifest of ``artifacts``, atomically; model files and their checksums are left as they are.
    With ``out``, a copy of the artifact directory carries it instead (``artifacts`` untouched)."""
    root = Path(artifacts)
    raw = json.loads(json.dumps(read_manifest(root).to_json()))  # a deep copy, validated
    raw["version"] = max(2, raw["version"])
    raw["targets"][target]["policy"] = policy
    if out is None:
        return write_manifest(root, raw)
    out = Path(out)
    tmp = staging_dir(out)
    try:
        shutil.copytree(root, tmp, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".*"))
        write_manifest(tmp, raw)
        replace_dir(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out / "manifest.json"


def verify_artifacts(artifacts: str | Path, target: str) -> Manifest:
    """The manifest, after checking that ``target``'s files are all there, unaltered, and alone."""
    root = Path(artifacts)
    manifest = read_manifest(root)
    t = manifest.target(target, root)
    listed = {m.file for m in t.models.values()}
    for m in t.models.values():
        path = root / m.file
        if not path.is_file():
            raise ArtifactError(f"{path} ({m.name}) is missing; reconvert with drnet-edge convert")
        if sha256_file(path) != m.sha256:
            raise ArtifactError(f"{path} ({m.name}) does not match its sha256 in the manifest: altered or corrupt")
    extra = sorted(
        str(p.relative_to(root))
        for p in (root / target).rglob("*")
        if p.is_file() and str(p.relative_to(root)) not in listed
    )
    if extra:
        raise ArtifactError(f"{root}: files not in the manifest: {', '.join(extra)}; remove them or reconvert")
    return manifest


def choose_runtime(manifest: Manifest, runtime: str | None, device: str) -> str:
    """Which of the artifacts' runtimes runs them, decided here once for every command (predict, eval,
    calibrate, the bench): ``runtime`` if they hold it; else TFLite, then ExecuTorch, then ONNX (ONNX
    Runtime only on this machine or a board, not on a phone's tools)."""
    have = list(manifest.targets)
    if runtime:
        if runtime not in have:
            raise ConfigError(f"--runtime {runtime}: the artifacts hold {', '.join(have) or 'no models'}")
        return runtime
    for pref in ("tflite", "executorch", "onnx"):
        if pref in have and (device == "local" or device.startswith("ssh://") or pref != "onnx"):
            return pref
    raise ConfigError(f"the artifacts hold no model that runs on {device} (they hold: {', '.join(have)})")
