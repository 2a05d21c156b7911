"""Which photos trained what: the ``data`` record a training run leaves in its checkpoint's ``meta``
(kept by :func:`~drnet_edge.models.checkpoint.export_for_shipping`, which drops only the training
state), and the overlap check between the backbone's photos and the predictor's.

A record per part (``backbone``, ``predictor``): the folder(s), ``--subset``, ``--limit``, the photo
count, ``sha256`` of the sorted relative file list (one ``class/file`` per line) and ``ids``: the
sorted first 12 hex digits of sha1(``class/file``) of every photo, space-separated (13 bytes a photo,
about 80 KB for 6,000). A photo is the same photo in two records when its class folder and file name
are (:func:`~drnet_edge.policy.crossfit.photo_key`, as the calibration folds hash it), wherever the
folder lives and whatever its encoding (``imagewoof-train-rest`` is re-encoded); two different photos
share an id with odds of about 1 in 10^7 for two sets of a few thousand.

In predictor mode on a trained DRNet (``--init-from``) the backbone is frozen: its record is the one
that checkpoint carries (or, for a checkpoint from before records, its name and no photo list)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from ..data.folders import ImageFolder
from ..policy.crossfit import photo_key
from .config import TrainConfig

ID_HEX = 12  # hex digits of sha1 kept per photo
ID_RULE = f"sha1('class/file')[:{ID_HEX}]"


def photo_ids(keys: list[str]) -> str:
    """The compact photo set: sorted, de-duplicated sha1 prefixes of ``class/file`` keys, space-joined."""
    return " ".join(sorted({hashlib.sha1(k.encode()).hexdigest()[:ID_HEX] for k in keys}))


def _relative(path: Path, roots: list[Path]) -> str:
    for root in roots:
        try:
            return path.relative_to(root).as_posix()
        except ValueError:
            continue
    return photo_key(str(path))


def folder_record(folder: ImageFolder, folders: list[str], subset: str | None, limit: int | None) -> dict[str, Any]:
    """The record of the photos in ``folder`` (scanned from ``folders`` with ``subset`` and ``limit``)."""
    roots = [Path(f) for f in folders]
    rel = sorted(_relative(p, roots) for p in folder.paths)
    return {
        "folders": [str(f) for f in folders],
        "subset": subset,
        "limit": limit,
        "photos": len(rel),
        "sha256": hashlib.sha256("".join(r + "\n" for r in rel).encode()).hexdigest(),
        "id_rule": ID_RULE,
        "ids": photo_ids([photo_key(str(p)) for p in folder.paths]),
    }


def inherited_backbone(init_from: str, init_meta: dict[str, Any]) -> dict[str, Any]:
    """The frozen backbone's record: the one ``--init-from``'s checkpoint carries, named by where it
    came from; or, for a checkpoint without one, that name and no photo list."""
    carried = (init_meta.get("data") or {}).get("backbone")
    if carried:
        return {**carried, "via": init_from}
    return {"via": init_from, "photos": None, "note": "not recorded in that checkpoint"}


def data_record(
    mode: str,
    this_run: dict[str, Any],
    *,
    init_from: str | None = None,
    init_meta: dict[str, Any] | None = None,
    pretrained: str | None = None,
) -> dict[str, Any]:
    """``meta['data']`` for a run in ``mode`` on ``this_run``'s photos. Predictor mode: the backbone is
    ``--init-from``'s (its record carried over) or pretrained weights (``pretrained`` names them);
    joint: both parts on this run's photos; plain: the backbone only."""
    if mode == "predictor":
        if init_from:
            backbone = inherited_backbone(init_from, init_meta or {})
        else:
            backbone = {"pretrained": pretrained, "photos": None}
        record = {"backbone": backbone, "predictor": this_run}
    else:
        backbone = dict(this_run)
        if init_from:
            backbone["init_from"] = inherited_backbone(init_from, init_meta or {})
        record = {"backbone": backbone, "predictor": this_run if mode == "joint" else None}
    record["backbone_frozen"] = mode == "predictor"
    record["overlap"] = overlap(record["backbone"], record["predictor"])
    return record


def run_data_record(cfg: TrainConfig, folder: ImageFolder) -> dict[str, Any]:
    """``meta['data']`` of the run ``cfg`` on ``folder`` (its scanned training photos)."""
    this_run = folder_record(folder, [cfg.data, *cfg.extra_data], cfg.subset, cfg.limit)
    init_meta: dict[str, Any] = {}
    if cfg.init_from:
        from ..models.checkpoint import read_checkpoint
        from ..runtime.bundled import resolve_model

        init_meta = read_checkpoint(resolve_model(cfg.init_from)).get("meta") or {}
    pretrained = cfg.weights or f"{cfg.backbone}'s ImageNet-1k weights"
    return data_record(cfg.mode, this_run, init_from=cfg.init_from, init_meta=init_meta, pretrained=pretrained)


def start_lines(record: dict[str, Any]) -> list[str]:
    """What ``train`` says on stderr before it trains: one ``warning:`` line when the predictor's
    photos overlap its frozen backbone's, one ``note:`` line when the backbone's are not recorded."""
    warning = overlap_warning(record)
    if warning:
        return [warning]
    back = record.get("backbone") or {}
    if record.get("predictor") and back.get("via") and back.get("photos") is None:
        return [
            f"note: {back['via']} does not record which photos trained its backbone, so whether the "
            "predictor's photos overlap them is not checked"
        ]
    return []


def overlap(backbone: dict[str, Any] | None, predictor: dict[str, Any] | None) -> int | None:
    """How many photo ids the two records share; None when either has no photo list."""
    if not backbone or not predictor or not backbone.get("ids") or not predictor.get("ids"):
        return None
    if backbone.get("id_rule") != predictor.get("id_rule"):
        return None
    return len(set(backbone["ids"].split()) & set(predictor["ids"].split()))


def _where(rec: dict[str, Any]) -> str:
    where = ", ".join(rec.get("folders") or [])
    subset = f" --subset {rec['subset']}" if rec.get("subset") else ""
    limit = f" --limit {rec['limit']}" if rec.get("limit") else ""
    return f"{where}{subset}{limit}"


def overlap_warning(record: dict[str, Any]) -> str | None:
    """One line for a predictor-mode run whose photos overlap those that trained its frozen backbone
    (None when they do not, or when the backbone's photos are not recorded)."""
    shared = record.get("overlap")
    pred, back = record.get("predictor") or {}, record.get("backbone") or {}
    if not shared or not record.get("backbone_frozen"):
        return None  # joint mode trains both on the same photos by design
    return (
        f"warning: {shared} of the predictor's {pred.get('photos')} photos ({_where(pred)}) also trained the "
        f"backbone ({back.get('photos')} photos: {_where(back)}); on those the backbone is right at every "
        "resolution, so they teach the predictor little: train it on photos the backbone never saw"
    )


def record_backbone_photos(src: str | Path, dst: str | Path, data: str, subset: str | None = None) -> Path:
    """A copy of checkpoint ``src`` (path or bundled name) at ``dst`` whose ``meta['data']`` records that
    its backbone trained on ``data`` (with ``subset``): for a checkpoint from before records, so that a
    predictor trained on it (``--init-from dst``) carries the backbone's photos and is checked against them."""
    from ..data.folders import scan_folder
    from ..models.checkpoint import read_checkpoint, save_checkpoint
    from ..runtime.bundled import resolve_model

    ckpt = read_checkpoint(resolve_model(str(src)))
    backbone = folder_record(scan_folder(data, subset=subset), [data], subset, None)
    ckpt["meta"] = {**(ckpt.get("meta") or {}), "data": {"backbone": backbone, "predictor": None, "overlap": None}}
    return save_checkpoint(dst, ckpt)


def describe_split(record: dict[str, Any] | None) -> str | None:
    """``backbone: 2372 photos (...); predictor: 6025 photos (...); overlap 0``, for ``drnet-edge models``."""
    if not record:
        return None

    def part(name: str, rec: dict[str, Any] | None) -> str:
        if not rec:
            return f"{name}: -"
        if rec.get("photos") is None:
            source = rec.get("pretrained") or rec.get("via") or "?"
            return f"{name}: not recorded ({source})"
        return f"{name}: {rec['photos']} photos ({_where(rec)})"

    shared = record.get("overlap")
    tail = "" if shared is None else f"; {shared} photos in both"
    return f"{part('backbone', record.get('backbone'))}; {part('predictor', record.get('predictor'))}{tail}"
