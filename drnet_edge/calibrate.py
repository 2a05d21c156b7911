"""``drnet-edge calibrate``: choose a model's default policy on calibration photos, and write it.

The model runs on the calibration photos, from a checkpoint in PyTorch or from converted artifacts in
their runtime (``calibrate --artifacts``: an int8 file decides differently from the fp32 model, so
calibrate what ships); :func:`~drnet_edge.policy.selection.select_policy` picks the policy on their
per-resolution outcomes (two steps: the family out of fold, then its best policy), and the record goes
into a checkpoint or into the artifacts' manifest as the target's policy.

Unlabelled photos are calibrated label-free: "correct" then means "agrees with the largest
resolution's top-1" (stated in the result). Thresholds are never fitted on evaluation photos: pass
disjoint folds (``--subset``) to ``calibrate`` and ``eval``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .policy.candidates import Candidate, pareto, photos_needed
from .policy.registry import Predictions
from .policy.selection import FOLDS, calibration_record, objective_of, select_policy

MIN_PHOTOS = 100  # fewer calibration photos decide little (a few hundred barely tell families apart)


@dataclass
class CalibrationResult:
    """What ``calibrate`` chose, the candidates' Pareto front, and where the result went."""

    record: dict[str, Any]
    front: list[Candidate]
    out: str | None
    chosen: Candidate | None = None


def calibration_outcomes(
    net: Any, data: str, *, classes: Any, own_classes: Any, subset: str | None, limit: int | None, skip_bad: bool,
    batch_size: int, progress: bool, min_photos: int, folds: int = FOLDS,
) -> Predictions:  # fmt: skip
    """``net`` (a DRNet or converted artifacts) at every resolution on the calibration photos; fewer
    than ``min_photos``, or so few that one of the ``folds`` calibration folds is empty, is refused
    before any model runs."""
    from .data.classes import imagenet_classes
    from .data.folders import scan_folder
    from .policy.crossfit import path_folds, require_folds
    from .runtime.outputs import predict_folder

    if len(net.resolutions) < 2:
        raise ConfigError(f"the model has one resolution ({net.resolutions[0]}); there is no policy to calibrate")
    if classes is None and own_classes is not None and own_classes.ids != imagenet_classes().ids:
        classes = own_classes
    folder = scan_folder(data, classes=classes, limit=limit, subset=subset)
    if len(folder) < min_photos:
        raise ConfigError(
            f"--data {data}: {len(folder)} photos, fewer than --min-photos {min_photos}; a policy chosen on so "
            "few decides little (a few hundred barely tell policy families apart, and a 95% bound of 1 point "
            f"on the drop needs about {photos_needed(0.0, 1.0)} photos with none lost): add photos, or lower "
            "--min-photos knowingly (0 disables the check)"
        )
    require_folds(path_folds([str(p) for p in folder.paths], folds), folds)
    preds, _ = predict_folder(
        net, folder, net.resolutions, net.preprocess, batch_size=batch_size, skip_bad=skip_bad, progress=progress
    )
    return preds


def check_manifest_writable(artifacts: str | Path) -> None:
    """``calibrate --artifacts DIR`` without ``--out`` records the policy in DIR's manifest.json (a new
    file renamed over it): DIR must take a new file, checked before any photo runs."""
    from ._io import check_writable

    folder = Path(artifacts)
    try:
        check_writable(folder / "manifest.json", "--artifacts")
    except ConfigError as exc:
        raise ConfigError(
            f"{exc}: the chosen policy is recorded in that folder's manifest.json; pass --out NEW_DIR to write "
            "a calibrated copy elsewhere"
        ) from None


def calibrate(
    model: str | None,
    data: str,
    out: str | None,
    *,
    artifacts: str | None = None,
    runtime: str | None = None,
    threads: int | None = None,
    max_drop: float | None = None,
    target_ratio: float | None = None,
    require_bound: bool = False,
    subset: str | None = None,
    limit: int | None = None,
    classes: Any = None,
    skip_bad: bool = False,
    batch_size: int = 32,
    min_photos: int = MIN_PHOTOS,
    folds: int = FOLDS,
    progress: bool = True,
) -> CalibrationResult:
    """Pick a default policy on the photos in ``data``. For a checkpoint (``model``: a path or bundled
    name, never modified) the result is a checkpoint carrying it, written to ``out``. For converted
    ``artifacts`` run in ``runtime`` it is recorded in their manifest as that target's policy, in
    place or, with ``out``, in a copy of the directory. Atomic; nothing is written when no policy
    qualifies."""
    from .runtime.interface import macs_by_resolution
    from .runtime.manifest import write_target_policy
    from .runtime.source import ModelSource, open_model

    objective = objective_of(max_drop, target_ratio, require_bound)
    if artifacts is not None:
        if model is not None:
            raise ConfigError("--artifacts already fix the model: drop --model")
        if out is None:
            check_manifest_writable(artifacts)
        source = ModelSource(artifacts=artifacts, runtime=runtime).resolved()  # the manifest's runtime by default
    else:
        if runtime is not None:
            raise ConfigError("--runtime picks among converted files: give --artifacts DIR with it")
        source = ModelSource(model=model).resolved()  # the bundled default model without --model
        model = str(source.model)
    net, own = open_model(source, threads=threads)
    if source.kind == "artifacts":
        from .runtime.artifacts import ArtifactDRNet

        assert isinstance(net, ArtifactDRNet)  # converted files always open as ArtifactDRNet
        source_info = {
            "artifacts": str(artifacts),
            "runtime": source.runtime,
            "route": net.entry.route,
            "precision": net.precision,
            **({"passes": net.manifest.passes} if net.manifest.passes else {}),
        }
    else:
        source_info = {"model": str(model), "runtime": "pytorch", "precision": "fp32"}
    preds = calibration_outcomes(
        net, data, classes=classes, own_classes=own, subset=subset, limit=limit, skip_bad=skip_bad, batch_size=batch_size,
        progress=progress, min_photos=min_photos, folds=folds,
    )  # fmt: skip
    sel = select_policy(preds, macs_by_resolution(net), net.predictor_macs(), folds=folds, **objective)
    where = f"{data}" + (f" (--subset {subset})" if subset else "")
    record = calibration_record(sel, preds, objective=objective, data=where, source=source_info)
    if artifacts is not None:
        assert source.runtime is not None
        written = write_target_policy(artifacts, source.runtime, record, out)
        return CalibrationResult(record, pareto(sel.cands), str(written), sel.chosen)
    if out is not None:
        from .models.checkpoint import read_checkpoint, save_checkpoint
        from .runtime.bundled import resolve_model

        ckpt = read_checkpoint(resolve_model(model))
        ckpt["policy"] = record
        ckpt.setdefault("meta", {})["calibrated_from"] = str(model)
        save_checkpoint(out, ckpt)
    return CalibrationResult(record, pareto(sel.cands), out, sel.chosen)
