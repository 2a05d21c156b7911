"""``drnet-edge convert``: a trained DRNet -> deployable files for each target, checked against PyTorch.

Stages (each failure names the model and the stage): load -> quantisation data -> per target and
per module (predictor; backbone folded to each resolution's BN) export -> parity -> manifest. The
output is assembled in a temporary directory next to ``out`` and moved into place only when every
model converted and passed its checks.
"""

from __future__ import annotations

import platform
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ._io import atomic_write_json, check_writable, replace_dir, sha256_file, staging_dir
from .data.augment import view_crops
from .data.classes import imagenet_classes
from .data.folders import ImageFolder, sample_dir, scan_folder
from .data.preprocess import load_image, to_tensor
from .errors import CheckpointError, ConfigError, ConversionError, DataError
from .models.checkpoint import load_model
from .models.compose import compose
from .models.drnet import DRNet
from .policy.registry import Predictions, expand_policies
from .runtime.bundled import DEFAULT_MODEL
from .runtime.manifest import MANIFEST_FORMAT, MANIFEST_VERSION, write_manifest

FP32_ATOL = 1e-3  # largest |logit difference| allowed between a converted fp32 model and PyTorch


@dataclass
class QuantSet:
    """The ``--quant-data`` photos: crops (augmented views) for int8 quantisation and the parity checks,
    and held-aside labelled images for accuracy. (Not policy calibration: that is ``calibrate``.)"""

    views: dict[int, list[torch.Tensor]]  # size -> batch-1 tensors
    held: dict[int, torch.Tensor]  # size -> N x 3 x s x s
    held_labels: np.ndarray
    n_images: int  # photos the views come from (the first n_images views are their centre crops)


def quant_set(model: DRNet, folder: ImageFolder, count: int, seed: int = 0) -> QuantSet:
    """Views of 4/5 of the images (centre crop first, then random resized crops) until ``count``
    tensors per size; the other fifth (hash-based, ``test:0/5``) is held aside for accuracy."""
    sizes = model.resolutions + ([model.thumb_size] if model.predictor is not None else [])
    held_paths = (
        set(map(str, scan_folder(folder.root, classes=folder.classes, subset="test:0/5").paths))
        if folder.labelled
        else set()
    )
    pool = [p for p in folder.paths if str(p) not in held_paths] or list(folder.paths)
    held = [(p, y) for p, y in zip(folder.paths, folder.labels, strict=True) if str(p) in held_paths]
    views: dict[int, list[torch.Tensor]] = {s: [] for s in sizes}
    images = [load_image(p) for p in pool]
    view = 0
    while len(views[sizes[0]]) < count:
        for i, img in enumerate(images):
            g = None if view == 0 else torch.Generator().manual_seed(seed * 7919 + view * 104729 + i)
            crops = view_crops(img, sizes, model.preprocess, g)
            for s in sizes:
                views[s].append(to_tensor(crops[s], model.preprocess))
            if len(views[sizes[0]]) >= count:
                break
        view += 1
    held_t = {
        s: torch.cat(
            [to_tensor(view_crops(load_image(p), [s], model.preprocess, None)[s], model.preprocess) for p, _ in held]
        )
        if held
        else torch.zeros(0, 3, s, s)
        for s in sizes
    }
    return QuantSet(views, held_t, np.array([y for _, y in held], dtype=np.int64), len(pool))


def modules_to_export(model: DRNet) -> dict[str, tuple[nn.Module, int, int | None]]:
    """``name -> (module, input size, resolution index)``: the predictor and one backbone per resolution."""
    out: dict[str, tuple[nn.Module, int, int | None]] = {}
    if model.predictor is not None:
        out["predictor"] = (model.predictor.eval(), model.thumb_size, None)
    for k, r in enumerate(model.resolutions):
        out[f"backbone_{r}"] = (model.folded_backbone(k).eval(), r, k)
    return out


def convert(
    model: str | Path = DEFAULT_MODEL,
    *,
    targets: list[str],
    out: str | Path,
    int8: bool = False,
    quant_data: str | Path | None = None,
    quant_count: int = 100,
    via: str = "litert",
    policy_data: str | Path | None = None,
    policy_objective: dict[str, Any] | None = None,
    policy_min_photos: int = 100,
    passes: dict[int, str | Path] | None = None,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Convert a DRNet checkpoint (path or bundled name) for each target; returns the parity report.

    ``quant_data`` (default: the bundled sample) gives ``quant_count`` views per model for int8
    quantisation and the parity checks, a fifth of its photos held aside for accuracy. With
    ``policy_data``, each target's default policy is then calibrated on its converted files over those
    photos (``calibrate --artifacts``; the ``quant_data`` folder's held-aside fifth is never used) under
    ``policy_objective`` (``max_drop``/``target_ratio``; default: the checkpoint's own calibration
    objective). Either way ``parity.json`` records, per target, how often the files'
    policy decisions match PyTorch fp32's on the held-aside photos.

    ``passes`` (resolution -> checkpoint path or bundled name) takes those resolutions' passes from other
    checkpoints of the same backbone, classes and preprocessing (:mod:`drnet_edge.models.compose`); the
    manifest records each one's source and sha256."""
    from drnet_edge.converters import get_target, list_routes, list_targets

    names = list_targets() if "all" in targets else list(dict.fromkeys(targets))
    if via not in list_routes("tflite"):
        raise ConfigError(f"--via must be one of {', '.join(list_routes('tflite'))}, got {via!r}")
    if via != "litert" and "tflite" not in names:
        raise ConfigError(f"--via {via} is a TFLite route: add --target tflite")
    # unknown target -> ConfigError before any work
    tgts = [get_target(t, via=via if t == "tflite" else None) for t in names]
    if quant_count < 1:
        raise ConfigError("--quant-count must be at least 1")
    for t in tgts:
        t.check_export()
    out = Path(out)
    if out.exists() and (
        not out.is_dir()
        or any(p for p in out.iterdir() if p.name not in ("manifest.json", "parity.json") and not p.is_dir())
    ):
        raise ConfigError(f"--out {out} exists and is not a drnet-edge artifact directory; choose a new path")
    check_writable(out, "--out", directory=True)  # before any work: a bad --out never costs a conversion

    net, classes, ckpt = load_model(model)
    net, borrowed = compose(net, classes, passes or {}, load=_donor)
    if borrowed and policy_data is None and ckpt.get("policy"):
        log(f"warning: the default policy {ckpt['policy']['name']} was calibrated on {model}'s own passes, not on "
            f"the {', '.join(borrowed)} px pass taken from {', '.join(b['model'] for b in borrowed.values())}: "
            "add --policy-data DIR (photos neither model trained on) to calibrate it on these files")  # fmt: skip
    own = classes.ids != imagenet_classes().ids
    if quant_data is None and own:
        raise ConfigError(
            f"--model {model} has its own {len(classes)} classes ({', '.join(classes.names[:3])}"
            f"{', ...' if len(classes) > 3 else ''}) and the bundled sample photos are ImageNet's: pass --quant-data DIR "
            "with photos of the model's own classes (one sub-folder per class, e.g. its training or validation folder)"
        )
    folder = scan_folder(quant_data or sample_dir(), classes=classes if own else None)
    if len(folder) < 2:
        raise DataError(f"--quant-data folder {folder.root} needs at least 2 images")
    log(f"quantisation data: {quant_count} views from {folder.root} ({len(folder)} images; a fifth held aside)")
    qset = quant_set(net, folder, quant_count)
    mods = modules_to_export(net)

    tmp = staging_dir(out)
    try:
        manifest = _manifest_head(net, classes, ckpt, model)
        if borrowed:
            manifest["passes"] = borrowed
        parity: dict[str, Any] = {"atol_fp32": FP32_ATOL, "targets": {}}
        for t in tgts:
            manifest["targets"][t.name], parity["targets"][t.name] = _convert_target(t, net, mods, qset, tmp, int8, log)
        write_manifest(tmp, manifest)
        if policy_data is not None:
            objective = policy_objective or _checkpoint_objective(ckpt)
            for t in tgts:
                _calibrate_target(
                    tmp, t.name, Path(policy_data), folder, {**objective, "min_photos": policy_min_photos}, log
                )
        parity["policy"] = {t.name: policy_agreement(net, tmp, t.name, qset, log) for t in tgts}
        atomic_write_json(tmp / "parity.json", parity)
        replace_dir(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return parity


def _donor(res: int, src: str | Path) -> tuple[DRNet, Any]:
    """A ``--pass-from`` checkpoint loaded for :func:`~drnet_edge.models.compose.compose`; a load error names
    the flag."""
    try:
        return load_model(src)[:2]
    except CheckpointError as exc:
        raise CheckpointError(f"--pass-from {res}={src}: {exc}") from exc


def _convert_target(
    t: Any, net: DRNet, mods: dict, qset: QuantSet, tmp: Path, int8: bool, log: Callable[[str], None]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Export every module for target ``t`` into ``tmp/<target>``, load each back and check parity;
    returns the target's manifest entry and parity report."""
    (tmp / t.name).mkdir()
    entry = {"precision": "int8" if int8 else "fp32", "route": t.route, "versions": t.versions(), "models": {}}
    parity: dict[str, Any] = {}
    shared = not int8 and t.shares_weights and net.one_weight_set and len(net.resolutions) > 1
    entry["shared_backbone_weights"] = shared
    exported: dict[str, tuple[Path, Any, str | None]] = {}
    for name, (module, size, k) in mods.items():
        if shared and k is not None:
            continue
        path = tmp / t.name / f"{name}{t.suffix}"
        log(f"{t.name}: converting {name} ({size}px, {'int8' if int8 else 'fp32'})")
        with _stage(t.name, name, "export"):
            views = qset.views[size] if int8 else ()
            exported[name] = (path, t.export(module, qset.views[size][0], path, int8=int8, quant_views=views), None)
    if shared:
        path = tmp / t.name / f"backbone{t.suffix}"
        names = [n for n, (_, _, k) in mods.items() if k is not None]
        log(f"{t.name}: converting {', '.join(names)} into one file (shared weights, one entry point each)")
        with _stage(t.name, "backbone", "export"):
            specs = t.export_shared(mods[names[0]][0], {n: qset.views[mods[n][1]][0] for n in names}, path)
        exported.update({n: (path, specs[n], n) for n in names})
    for name, (path, spec, entry_point) in exported.items():
        module, size, k = mods[name]
        with _stage(t.name, name, "load and run"):
            runner = t.load(path, threads=2, entry=entry_point)
            check = _parity(module, runner, qset, size, int8, is_backbone=k is not None)
        if not int8 and check["max_abs_diff"] > FP32_ATOL:
            raise ConversionError(
                f"{t.name}/{name}", "fp32 parity", f"max |logit diff| {check['max_abs_diff']:.2e} > {FP32_ATOL}"
            )
        parity[name] = check
        info = spec.to_json()
        info.update(
            file=f"{t.name}/{path.name}",
            entry=entry_point,
            sha256=sha256_file(path),
            bytes=path.stat().st_size,
            macs=net.predictor_macs() if k is None else net.backbone_macs(k),
            input_size=size,
            resolution_index=k,
        )
        entry["models"][name] = info
    entry["bytes_total"] = sum(p.stat().st_size for p in (tmp / t.name).iterdir())
    return entry, parity


@contextmanager
def _stage(target: str, model: str, stage: str) -> Iterator[None]:
    """Re-raise any failure inside as a :class:`ConversionError` naming the model and the stage."""
    try:
        yield
    except ConversionError:
        raise
    except Exception as exc:
        raise ConversionError(f"{target}/{model}", stage, f"{type(exc).__name__}: {exc}") from exc


def _manifest_head(net: DRNet, classes: Any, ckpt: dict[str, Any], model: str | Path) -> dict[str, Any]:
    pre = net.preprocess.to_dict()
    pre["layout"] = "NCHW"
    return {
        "format": MANIFEST_FORMAT,
        "version": MANIFEST_VERSION,
        "source_model": str(model),
        "backbone": net.backbone_name,
        "resolutions": net.resolutions,
        "predictor_input": net.thumb_size or None,
        "resolution_bn": net.resolution_bn,
        "preprocess": pre,
        "classes": {"ids": list(classes.ids), "names": list(classes.names)},
        "tools": {"torch": torch.__version__, "python": platform.python_version()},
        "targets": {},
        **({"policy": ckpt["policy"]} if ckpt.get("policy") else {}),
    }


@torch.no_grad()
def _parity(module: nn.Module, runner: Any, qset: QuantSet, size: int, int8: bool, is_backbone: bool) -> dict[str, Any]:
    """fp32: largest |logit diff| on up to 16 ``--quant-data`` views. int8 (backbones): top-1 agreement
    with fp32 PyTorch and top-1 change on the held-aside images. (parity.json's keys ``n_calib_checked``
    and ``top1_agreement_calib`` keep their names: there ``calib`` means those views.)"""
    xs = torch.cat(qset.views[size][:16])
    ref = module(xs).numpy()
    got = runner(xs.numpy())
    res: dict[str, Any] = {"n_calib_checked": len(xs), "max_abs_diff": float(np.abs(ref - got).max())}
    res["top1_agreement_calib"] = float((ref.argmax(1) == got.argmax(1)).mean())
    if int8 and len(qset.held_labels):
        held = qset.held[size]
        r = module(held).numpy().argmax(1)
        g = runner(held.numpy()).argmax(1)
        res["n_held"] = len(held)
        res["top1_agreement_held"] = float((r == g).mean())
        if is_backbone:
            res["top1_fp32_held"] = float((r == qset.held_labels).mean())
            res["top1_int8_held"] = float((g == qset.held_labels).mean())
    return res


MOVED_AGREEMENT = 0.9  # decision agreement below this on >= MIN_AGREEMENT_N photos: the policy moved
MOVED_MACS = 0.03  # or a MACs ratio this far from PyTorch's
MIN_AGREEMENT_N = 100


def _checkpoint_objective(ckpt: dict[str, Any]) -> dict[str, Any]:
    obj = ((ckpt.get("policy") or {}).get("calibration") or {}).get("objective") or {}
    if obj.get("target_ratio") is not None:
        return {"target_ratio": obj["target_ratio"]}
    return {"max_drop": obj.get("max_drop_pts") if obj.get("max_drop_pts") is not None else 0.5}


def _calibrate_target(
    root: Path, target: str, data: Path, quant: ImageFolder, objective: dict[str, Any], log: Callable[[str], None]
) -> None:
    """``calibrate --artifacts`` on the files just converted (the held-aside fifth left out when the
    policy photos are the ``--quant-data`` photos)."""
    from .calibrate import calibrate

    same = data.resolve() == Path(quant.root).resolve()
    subset = "train:0/5" if same else None
    log(f"{target}: calibrating the default policy on the converted files ({data}{' ' + subset if subset else ''})")
    with _stage(target, "policy", "calibrate"):
        rec = calibrate(None, str(data), None, artifacts=str(root), runtime=target, subset=subset,
                        classes=quant.classes, progress=False, **objective).record  # fmt: skip
    exp = rec["calibration"]["expected"]
    log(f"{target}: default policy {rec['name']} (expected {100 * exp['top1']:.1f}% at {exp['macs_ratio']:.2f}x)")


def held_predictions(model: Any, qset: QuantSet, batch: int = 32) -> Predictions:
    """``model`` (a :class:`~drnet_edge.runtime.interface.RunnableDRNet`: converted files or a PyTorch
    DRNet behind :class:`~drnet_edge.models.runnable.TorchRunnable`) at every resolution on the held-aside
    photos."""
    from .runtime.outputs import per_image_outputs

    net = model
    res = list(net.resolutions)
    n = len(qset.held_labels)
    top1, conf = np.zeros((n, len(res)), dtype=np.int64), np.zeros((n, len(res)), dtype=np.float32)
    margin = np.zeros_like(conf)
    choice = np.zeros(n, dtype=np.int64) if net.has_predictor else None
    for i in range(0, n, batch):
        rows = slice(i, i + batch)
        for k, r in enumerate(res):
            logits = net.backbone_at(qset.held[r][rows].numpy(), k)
            top1[rows, k], conf[rows, k], margin[rows, k] = per_image_outputs(logits)
        if choice is not None:
            choice[rows] = net.choose(qset.held[net.thumb_size][rows].numpy())
    return Predictions(res, qset.held_labels, top1, conf, predictor_choice=choice, margin=margin)


def policy_agreement(net: DRNet, root: Path, target: str, qset: QuantSet, log: Callable[[str], None]) -> dict:
    """How often ``target``'s files make PyTorch fp32's decisions (resolutions run and the one
    answered) under the policy they will run, on the held-aside photos; logs a warning when the policy
    moved and the sample is large enough to say so."""
    from .models.runnable import TorchRunnable
    from .runtime.interface import macs_by_resolution
    from .runtime.source import ModelSource, open_model

    art, _ = open_model(ModelSource(artifacts=root, runtime=target), threads=2)
    name = (art.policy or {}).get("name") or ("drnet" if art.has_predictor else None)
    n = len(qset.held_labels)
    if name is None or n == 0:
        return {"policy": name, "n": n, "note": "no dynamic policy or no labelled held-aside photos"}
    pol = expand_policies([name], art.resolutions, with_controls=False)[0]
    ref, got = held_predictions(TorchRunnable(net, art.classes), qset), held_predictions(art, qset)
    dr, dg = pol.decide(ref), pol.decide(got)
    macs = macs_by_resolution(art)
    cost = np.array([macs[r] for r in art.resolutions], dtype=np.float64)
    ratio = lambda d: float((d.ran @ cost).mean() / cost.max())  # noqa: E731
    idx = np.arange(n)
    out = {
        "policy": name,
        "n": n,
        "decisions_agree": float(((dr.final == dg.final) & (dr.ran == dg.ran).all(axis=1)).mean()),
        "answers_agree": float((ref.top1[idx, dr.final] == got.top1[idx, dg.final]).mean()),
        "top1_fp32": float((ref.top1[idx, dr.final] == ref.labels).mean()),
        "top1_converted": float((got.top1[idx, dg.final] == got.labels).mean()),
        "macs_ratio_fp32": ratio(dr),
        "macs_ratio_converted": ratio(dg),
    }
    moved = (
        out["decisions_agree"] < MOVED_AGREEMENT
        or abs(out["macs_ratio_fp32"] - out["macs_ratio_converted"]) > MOVED_MACS
    )
    what = (f"{target}: policy {name} on {n} held-aside photos: decisions agree with PyTorch fp32 on "
            f"{100 * out['decisions_agree']:.1f}%, MACs {out['macs_ratio_fp32']:.2f}x -> {out['macs_ratio_converted']:.2f}x")  # fmt: skip
    if n < MIN_AGREEMENT_N:
        log(f"{what} (too few photos to tell whether the policy moved: {MIN_AGREEMENT_N} needed)")
    elif moved:
        log(f"warning: {what}: the policy moved; calibrate it on these files (convert --policy-data DIR, or "
            "drnet-edge calibrate --artifacts)")  # fmt: skip
    else:
        log(what)
    out["moved"] = bool(moved) if n >= MIN_AGREEMENT_N else None
    return out
