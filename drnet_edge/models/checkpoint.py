"""Checkpoints: tensors and plain metadata only (loadable with ``weights_only=True``), and the
registry of bundled models (``--model lite0-imagenet`` works wherever a path does)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from .._io import atomic_write, load_error_reason, wrong_file_note
from ..data.classes import ClassList, imagenet_classes
from ..data.preprocess import Preprocess
from ..errors import CheckpointError, DrnetEdgeError
from ..runtime.bundled import DEFAULT_MODEL, list_models, resolve_model
from .backbones import create_backbone, get_backbone_cfg
from .drnet import DRNet, PredictorCfg, ResolutionPredictor, make_resolution_aware

FORMAT = "drnet-edge/checkpoint"
VERSION = 1


def make_checkpoint(
    model: DRNet,
    classes: ClassList,
    *,
    include_backbone: bool,
    half: bool = False,
    train_state: dict[str, Any] | None = None,
    meta: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A checkpoint dict. Without ``include_backbone`` the backbone comes from the registry's
    pretrained weights at load time (only valid when it was not trained)."""

    def tensors(module: torch.nn.Module) -> dict[str, torch.Tensor]:
        return {
            k: (v.half() if half and v.is_floating_point() else v).detach().cpu().clone()
            for k, v in module.state_dict().items()
        }

    return {
        "format": FORMAT,
        "version": VERSION,
        "backbone": model.backbone_name,
        "num_classes": len(classes),
        "resolutions": list(model.resolutions),
        "preprocess": model.preprocess.to_dict(),
        "classes": {"ids": list(classes.ids), "names": list(classes.names), "source": classes.source},
        "resolution_bn": model.resolution_bn,
        "predictor_cfg": model.predictor.cfg.to_dict() if model.predictor is not None else None,
        "predictor": tensors(model.predictor) if model.predictor is not None else None,
        "backbone_state": tensors(model.backbone) if include_backbone else None,
        "meta": meta or {},
        "train_state": train_state,
    }


def save_checkpoint(path: str | Path, ckpt: dict[str, Any]) -> Path:
    """Write atomically: a crash or Ctrl-C leaves the previous file intact."""
    return atomic_write(path, lambda p: torch.save(ckpt, p))


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """Load and validate a checkpoint file (``weights_only=True``)."""
    p = Path(path)
    if p.is_dir():
        raise CheckpointError(
            f"checkpoint {p} is a folder; give a checkpoint file (.pt) or one of: {', '.join(list_models())}"
        )
    if not p.is_file():
        raise CheckpointError(f"checkpoint {p} does not exist (give a file path or one of: {', '.join(list_models())})")
    wrong = wrong_file_note(p, "a drnet-edge checkpoint")
    if wrong:
        raise CheckpointError(wrong)
    try:
        ckpt = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise CheckpointError(f"{p} is not a readable drnet-edge checkpoint: {load_error_reason(exc)}") from exc
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise CheckpointError(f"{p} is not a drnet-edge checkpoint (no '{FORMAT}' format tag)")
    if ckpt.get("version", 0) > VERSION:
        raise CheckpointError(f"{p} was written by a newer drnet-edge (checkpoint version {ckpt['version']}); upgrade")
    missing = [k for k in ("backbone", "resolutions", "preprocess", "classes", "num_classes") if k not in ckpt]
    if missing:
        raise CheckpointError(f"{p} lacks {', '.join(missing)}")
    return ckpt


@dataclass(frozen=True)
class CheckpointInfo:
    """What a checkpoint's metadata says, read without building the model (``describe_checkpoint``)."""

    path: Path
    backbone: str
    resolutions: list[int]  # largest first
    num_classes: int
    classes: str  # "ImageNet-1k", or "own: " and the first few class names
    default_policy: str | None  # chosen by drnet-edge calibrate; None when none was
    has_predictor: bool
    resolution_bn: bool
    meta: dict[str, Any]  # training metadata (mode, epochs done, ...), empty for a shipped model


def describe_checkpoint(name_or_path: str | Path) -> CheckpointInfo:
    """A checkpoint (path or bundled name) described from its metadata alone: no model is built."""
    path = resolve_model(name_or_path)
    ckpt = read_checkpoint(path)
    ids = tuple(ckpt["classes"].get("ids", ()))
    if len(ids) == 1000 and ids == imagenet_classes().ids:
        classes = "ImageNet-1k"
    else:
        names = list(ckpt["classes"].get("names") or ids)
        more = ", ..." if len(names) > 4 else ""
        classes = f"own: {', '.join(map(str, names[:4]))}{more}"
    return CheckpointInfo(
        path=path,
        backbone=str(ckpt["backbone"]),
        resolutions=list(ckpt["resolutions"]),
        num_classes=int(ckpt["num_classes"]),
        classes=classes,
        default_policy=(ckpt.get("policy") or {}).get("name"),
        has_predictor=ckpt.get("predictor_cfg") is not None,
        resolution_bn=bool(ckpt.get("resolution_bn")),
        meta=dict(ckpt.get("meta") or {}),
    )


def build_model(ckpt: dict[str, Any], *, pretrained_trunk: bool = False) -> tuple[DRNet, ClassList]:
    """Rebuild the :class:`DRNet` and its class list from a checkpoint dict."""
    name, res = ckpt["backbone"], list(ckpt["resolutions"])
    state = ckpt.get("backbone_state")
    try:
        backbone = create_backbone(name, pretrained=state is None, num_classes=int(ckpt["num_classes"]))
        if ckpt.get("resolution_bn"):
            make_resolution_aware(backbone, len(res))
        if state is not None:
            backbone.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
        predictor = None
        if ckpt.get("predictor_cfg") is not None:
            predictor = ResolutionPredictor(PredictorCfg(**ckpt["predictor_cfg"]), pretrained_trunk=pretrained_trunk)
            predictor.load_state_dict(
                {k: v.float() if v.is_floating_point() else v for k, v in ckpt["predictor"].items()}
            )
    except DrnetEdgeError:
        raise
    except (RuntimeError, KeyError, TypeError) as exc:
        raise CheckpointError(f"checkpoint tensors do not fit a {name} DRNet at {res}: {exc}") from exc
    model = DRNet(
        backbone.eval(),
        res,
        predictor.eval() if predictor else None,
        Preprocess.from_dict(ckpt["preprocess"]),
        backbone_name=name,
    )
    model.default_policy = (ckpt.get("policy") or {}).get("name")
    c = ckpt["classes"]
    if len(c["ids"]) == 1000 and tuple(c["ids"]) == imagenet_classes().ids:
        classes = imagenet_classes()
    else:
        classes = ClassList(
            tuple(c["ids"]), tuple(c["names"]), f"the checkpoint's class list ({len(c['ids'])} classes)"
        )
    return model, classes


def load_model(
    name_or_path: str | Path = DEFAULT_MODEL,
    *,
    backbone: str | None = None,
    resolutions: list[int] | None = None,
) -> tuple[DRNet, ClassList, dict[str, Any]]:
    """Load a bundled model by name or a checkpoint by path.

    ``backbone``/``resolutions``, when given, must match the checkpoint (a clear error otherwise).
    Returns ``(model, classes, checkpoint dict)``.
    """
    ckpt = read_checkpoint(resolve_model(name_or_path))
    if backbone is not None and backbone != ckpt["backbone"]:
        raise CheckpointError(f"{name_or_path} holds a {ckpt['backbone']} DRNet, not {backbone}")
    if resolutions is not None and sorted(resolutions, reverse=True) != list(ckpt["resolutions"]):
        raise CheckpointError(
            f"{name_or_path} was trained for resolutions {ckpt['resolutions']}, not {resolutions}; "
            f"to evaluate the plain backbone at other resolutions pass --backbone {ckpt['backbone']}"
        )
    get_backbone_cfg(ckpt["backbone"])  # unknown backbone -> ConfigError
    model, classes = build_model(ckpt)
    return model, classes, ckpt


def public_record(record: dict[str, Any] | None, names: dict[str, str]) -> dict[str, Any] | None:
    """The training-photo record (``meta['data']``, :mod:`drnet_edge.train.split`) as a bundled checkpoint
    keeps it: every folder and ``via`` path renamed by ``names`` (``{path: public name}``), any other
    folder or ``via`` path by its last path component (a ``via`` that is a bundled model's name stays as
    it is); photo counts, ``sha256`` and
    ``ids`` unchanged. A shipped file names the photo sets, not paths on the machine that trained it. A
    record already made public (``public`` set) keeps its names: exporting a shipped file again is safe."""
    if not record:
        return record
    done = bool(record.get("public"))

    def name(path: str) -> str:
        return names.get(path, path if done else Path(path).name)

    def part(rec: Any) -> Any:
        if not isinstance(rec, dict):
            return rec
        out = {k: part(v) for k, v in rec.items()}
        if rec.get("folders"):
            out["folders"] = [name(f) for f in rec["folders"]]
        if isinstance(rec.get("via"), str):
            out["via"] = name(rec["via"])
        return out

    return {**part(record), "public": True}


def export_for_shipping(
    src: str | Path, dst: str | Path, *, half: bool = True, folder_names: dict[str, str] | None = None
) -> Path:
    """Strip the training state and (optionally) store weights in fp16: the small file we bundle. The
    training-photo record stays, its folder paths renamed by ``folder_names`` (else each folder's own
    name: :func:`public_record`)."""
    ckpt = read_checkpoint(src)
    ckpt["train_state"] = None
    meta = ckpt.get("meta")
    if isinstance(meta, dict) and meta.get("data"):
        ckpt["meta"] = {**meta, "data": public_record(meta["data"], folder_names or {})}
    if half and ckpt.get("backbone_state") is not None:
        # conv and linear weights in fp16; BatchNorm parameters and statistics stay fp32
        ckpt["backbone_state"] = {
            k: v.half() if v.is_floating_point() and v.ndim > 1 else v for k, v in ckpt["backbone_state"].items()
        }
    return save_checkpoint(dst, ckpt)
