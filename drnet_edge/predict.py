"""``drnet-edge predict``: classify photos with converted files under a policy, photo by photo, as the
deployed loop runs them (the bench's pipelines): the class, its confidence, the stages run and the
time each took; then a summary."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .data.folders import is_image
from .data.preprocess import IMAGE_EXTENSIONS, load_image
from .errors import BadImageError, ConfigError, DataError
from .policy.spec import softmax
from .progress import progress_bar


@dataclass
class PhotoResult:
    """One photo's answer: ``top`` (the K most likely classes, most likely first), the resolution that
    answered, the resolutions run, and the time of each pass (predictor, backbones, preprocessing)."""

    path: str
    top: list[dict[str, Any]]  # {"index", "id", "name", "probability"}
    answered_at: int
    ran: list[int]
    pass_ms: list[float]
    predictor_ms: float
    preprocess_ms: float
    total_ms: float


@dataclass
class PredictReport:
    """Every photo's :class:`PhotoResult` and the unreadable ones; ``summary()`` for the totals."""

    artifacts: str
    runtime: str
    precision: str
    policy: str
    policy_source: str
    photos: list[PhotoResult] = field(default_factory=list)
    skipped_bad: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        n = len(self.photos)
        total = np.array([p.total_ms for p in self.photos]) if n else np.zeros(0)
        answered = [p.answered_at for p in self.photos]
        return {
            "photos": n,
            "skipped_bad": len(self.skipped_bad),
            "mean_passes": float(np.mean([len(p.ran) for p in self.photos])) if n else 0.0,
            "ms_per_photo_mean": float(total.mean()) if n else None,
            "ms_per_photo_p50": float(np.median(total)) if n else None,
            "answered_at": {str(r): answered.count(r) / n for r in sorted(set(answered), reverse=True)},
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "artifacts": self.artifacts,
            "runtime": self.runtime,
            "precision": self.precision,
            "policy": self.policy,
            "policy_source": self.policy_source,
            "summary": self.summary(),
            "photos": [asdict(p) for p in self.photos],
            "skipped_bad": self.skipped_bad,
            "timing_note": "decode excluded; total = preprocessing + every model pass, one photo at a time",
        }


def photo_paths(inputs: Sequence[str | Path]) -> list[Path]:
    """Image files as given, and every image under a given folder (recursively, sorted); a missing
    path or a folder without images is a :class:`DataError` naming it."""
    out: list[Path] = []
    for item in map(Path, inputs):
        if item.is_dir():
            found = sorted(filter(is_image, item.rglob("*")))
            if not found:
                raise DataError(f"{item} holds no images ({', '.join(IMAGE_EXTENSIONS)})")
            out += found
        elif item.exists() or item.is_symlink():
            out.append(item)
        else:
            raise DataError(f"{item}: no such photo or folder")
    if not out:
        raise DataError("no photos given: name photo files or folders of photos")
    return out


def top_classes(logits: np.ndarray, classes: Any, k: int) -> list[dict[str, Any]]:
    """The ``k`` most likely classes of one logit vector, as ``{"index", "id", "name", "probability"}``
    (ties to the lower index, as the bench and the Android core break them)."""
    p = softmax(np.asarray(logits).ravel())
    order = np.lexsort((np.arange(p.size), -p))[:k]
    return [
        {"index": int(i), "id": classes.ids[i], "name": classes.names[i], "probability": float(p[i])} for i in order
    ]


def choose_policy(
    policy: str | None, own: dict | None, resolutions: list[int], has_predictor: bool, where: str
) -> tuple[str, dict[str, Any], str]:
    """The policy to run, its spec and where it came from: ``policy`` (checked against the model's
    resolutions before any model loads), else the model's default (``own``, recorded in ``where``), else
    the predictor's choice, else the largest resolution."""
    from .policy.deploy import default_policy, deployable_policies

    found = default_policy(own, has_predictor)
    if policy:
        default = found[0] if found else None
        pol = deployable_policies((policy,), list(resolutions), default, has_predictor)[0]
        return pol.name, pol.spec or {}, "--policy"
    if found is not None:
        return *found, f"the {where}'s default policy" if own else "the predictor's choice (no calibrated policy)"
    return f"fixed-{resolutions[0]}", {"kind": "fixed", "resolution_index": 0}, "the largest resolution"


def predict(
    artifacts: str | Path | None,
    inputs: Sequence[str | Path],
    *,
    model: str | Path | None = None,
    runtime: str | None = None,
    policy: str | None = None,
    top_k: int = 1,
    skip_bad: bool = False,
    threads: int | None = None,
    progress: bool = True,
) -> PredictReport:
    """Classify ``inputs`` (photos, or folders of them) with the converted files in ``artifacts``, or (build
    side) with ``model``, a checkpoint or bundled model run in PyTorch (fp32), under ``policy`` (a spec such
    as ``cascade-160:0.6-224``; default: the policy the manifest, or the checkpoint, records). Unreadable
    photos stop the run, or with ``skip_bad`` are counted and named."""
    from .runtime.loop import Pipeline
    from .runtime.manifest import read_manifest
    from .runtime.source import ModelSource, open_model

    if top_k < 1:
        raise ConfigError("--top must be at least 1")
    if (artifacts is None) == (model is None):
        raise ConfigError("give --artifacts DIR (converted files) or --model NAME|CHECKPOINT, one of them")
    paths = photo_paths(inputs)
    if model is not None:
        if runtime is not None:
            raise ConfigError("--runtime picks among converted files: with --model the checkpoint runs in PyTorch")
        source = ModelSource(model=model)
    else:
        source = ModelSource(artifacts=artifacts, runtime=runtime).resolved()  # the manifest's runtime by default
        manifest = read_manifest(artifacts)  # the policy checked against it before any model loads
        assert source.runtime is not None
        has_predictor = manifest.target(source.runtime).predictor is not None
        found = choose_policy(policy, manifest.policy_for(source.runtime), list(manifest.resolutions), has_predictor,
                              "manifest")  # fmt: skip
    art, _ = open_model(source, threads=threads)
    if source.kind == "checkpoint":
        found = choose_policy(policy, art.policy, art.resolutions, art.has_predictor, "checkpoint")
    name, spec, how = found
    runtime = source.runtime if source.kind == "artifacts" else "pytorch"
    source_name = str(artifacts if model is None else model)
    pipeline = Pipeline(name, spec, art)
    report = PredictReport(source_name, runtime, art.precision, name, how)
    with progress_bar(len(paths), "predicting", enabled=progress) as advance:
        for path in paths:
            try:
                img = load_image(path)
            except BadImageError:
                if not skip_bad:
                    raise
                report.skipped_bad.append(str(path))
                advance(1)
                continue
            out = pipeline(img)
            assert out.logits is not None
            report.photos.append(
                PhotoResult(
                    path=str(path),
                    top=top_classes(out.logits, art.classes, min(top_k, art.num_classes)),
                    answered_at=art.resolutions[out.final],
                    ran=[art.resolutions[k] for k in out.ran],
                    pass_ms=[round(ms, 3) for ms in out.pass_ms],
                    predictor_ms=round(out.predictor_ms, 3),
                    preprocess_ms=round(out.preprocess_ms, 3),
                    total_ms=round(out.preprocess_ms + out.predictor_ms + sum(out.pass_ms), 3),
                )
            )
            advance(1)
    return report
