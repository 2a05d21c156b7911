"""#32 point 1: `lite0-imagewoof`'s predictor retrained on photos its backbone never saw, scored on photos
neither saw. Called by ``benchmarks/reproduce/predictor_rest.sh`` (which trains and converts first):

    .venv/bin/python benchmarks/reproduce/predictor_rest.py outcomes --runs RUNS --calib CALIB [--int8]
    .venv/bin/python benchmarks/reproduce/predictor_rest.py report --runs RUNS --out benchmarks/results/predictor_rest
    .venv/bin/python benchmarks/reproduce/predictor_rest.py reuse --runs RUNS --calib CALIB --reuse PKL  # optional
    .venv/bin/python benchmarks/reproduce/predictor_rest.py rebox --old CACHE --runs RUNS --rest REST --limits 6025,600

``rebox``: an outcome cache written before the cache kept each view's box (``drnet_edge.train.cache``)
turned into one that does, under the key ``train`` now looks for (``RUNS/cache``), so that a
``THUMB=72`` run cuts its thumbnails from the same views instead of running the backbone again. Each
entry's boxes are drawn again as the run that wrote it drew them (the view seeds use the photo's index
in that run's ``--limit`` folder: the first of ``--limits`` whose boxes reproduce the entry), and kept
only when cutting every stored 64 px thumbnail again from them gives it byte for byte.

``outcomes``: per photo of ``CALIB`` (``imagewoof-val-calib``, 1,925 photos), the frozen backbone's answer
and max softmax at every resolution (once: the backbone is the same in every variant) and each
predictor's choice (``old``: the bundled predictor; ``warm``/``fresh``: retrained from it / from a new
one), pickled under ``RUNS/outcomes``; with ``--int8`` the same from each variant's TFLite int8 files
(``RUNS/<variant>-int8``, litert route); a variant whose backbone files are byte-identical to an
earlier one's reuses its backbone outcomes.

``report``, settings fixed before any outcome was seen:

* ``drnet`` (the predictor alone) and its random control (``random``: the same decisions dealt to the
  photos at random, seed 0, as ``drnet-edge eval`` does), against the fixed frontier at its MACs,
  paired SE (``drnet_edge.policy.rows``); nothing is chosen, so every photo counts.
* ``drnet-escalate:0.5`` and ``:0.7``: thresholds stated beforehand (nothing chosen), with controls.
* ``drnet-escalate:T`` cross-fitted: 5 folds (``CROSSFIT_SALT`` hash of class/file); on each fold,
  T from {0.30, 0.35, ..., 0.95} chosen on the other four to maximise top-1 minus the fixed
  frontier at its MACs, applied to this fold; pooled; control: each fold's decisions dealt at random
  within the fold (seed 0).
* The hindsight bound: the same T picked on all the scored photos (an upper bound, not a result).
"""

from __future__ import annotations

import argparse
import hashlib
import pickle
import platform
from pathlib import Path

import numpy as np

from drnet_edge._io import atomic_write, atomic_write_json, atomic_write_text
from drnet_edge.data.folders import scan_folder
from drnet_edge.evaluate import score_policies
from drnet_edge.policy.crossfit import CROSSFIT_SALT, fold_ids, out_of_fold, within_fold_permutation
from drnet_edge.policy.registry import Predictions, expand_policies
from drnet_edge.policy.rows import fixed_frontier_at, paired, paired_text
from drnet_edge.runtime.interface import macs_by_resolution
from drnet_edge.runtime.outputs import predict_folder

VARIANTS = ("old", "warm", "fresh")
FOLDS = 5
GRID = [round(0.30 + 0.05 * i, 2) for i in range(14)]  # 0.30 .. 0.95
FIXED_T = (0.5, 0.7)


def _open(runs: Path, variant: str, precision: str):
    if precision == "int8":
        from drnet_edge.runtime.artifacts import ArtifactDRNet

        return ArtifactDRNet(runs / f"{variant}-int8", "tflite", threads=2)
    from drnet_edge.models.checkpoint import load_model
    from drnet_edge.models.runnable import TorchRunnable

    ckpt = runs / ("backbone.pt" if variant == "old" else f"{variant}.pt")
    net, classes, _ = load_model(ckpt)
    return TorchRunnable(net, classes)


def _backbone_digest(runs: Path, variant: str) -> str:
    """sha256 over a variant's int8 backbone files (not the predictor's)."""
    h = hashlib.sha256()
    for f in sorted((runs / f"{variant}-int8").rglob("*.tflite")):
        if "predictor" not in f.name:
            h.update(f.name.encode() + f.read_bytes())
    return h.hexdigest()


def outcomes(runs: Path, calib: Path, precision: str, variants: tuple[str, ...]) -> None:
    """Pickle ``(Predictions, macs, predictor MACs)`` per variant under ``runs/outcomes``."""
    out = runs / "outcomes"
    out.mkdir(exist_ok=True)
    full: dict[str, tuple[Predictions, str]] = {}  # backbone digest -> outcomes with the backbone run
    for variant in variants:
        dest = out / f"{variant}.{precision}.pkl"
        if dest.is_file():
            continue
        net = _open(runs, variant, precision)
        folder = scan_folder(calib, classes=net.classes)
        digest = _backbone_digest(runs, variant) if precision == "int8" else "fp32"
        if digest not in full and (out / f"backbone.{precision}.{digest[:16]}.pkl").is_file():
            full[digest] = pickle.loads((out / f"backbone.{precision}.{digest[:16]}.pkl").read_bytes())
        if digest in full:  # the same backbone: only the predictor runs
            choice, _ = predict_folder(net, folder, [], net.preprocess, progress=False)
            base = full[digest]
            assert choice.paths == base.paths, "same photos, same order"
            preds = Predictions(base.resolutions, base.labels, base.top1, base.confidence, base.paths,
                                choice.predictor_choice, base.margin)  # fmt: skip
        else:
            preds, skipped = predict_folder(net, folder, net.resolutions, net.preprocess, progress=False)
            assert not skipped, skipped
            full[digest] = preds
            atomic_write(
                out / f"backbone.{precision}.{digest[:16]}.pkl", lambda p, x=preds: p.write_bytes(pickle.dumps(x))
            )
        record = (preds, macs_by_resolution(net), net.predictor_macs())
        atomic_write(dest, lambda p, r=record: p.write_bytes(pickle.dumps(r)))
        print(f"{variant} {precision}: {preds.n} photos", flush=True)


def reuse_fp32(runs: Path, calib: Path, pkl: Path, check: int) -> None:
    """The fp32 backbone outcomes (and the bundled predictor's choices: ``old``) taken from an existing
    ``benchmarks/release/shipped_policies.py`` outcome cache of ``lite0-imagewoof`` (the same frozen
    backbone), rows matched by class/file; ``check`` photos (spread over the classes) recomputed here
    and required to agree (answers, choices; max softmax within 1e-4)."""
    from drnet_edge.policy.crossfit import photo_key

    theirs, macs, pm = pickle.loads(pkl.read_bytes())
    net = _open(runs, "old", "fp32")
    folder = scan_folder(calib, classes=net.classes)
    row = {photo_key(p): i for i, p in enumerate(theirs.paths)}
    pick = np.array([row[photo_key(str(p))] for p in folder.paths])
    mine = [str(p) for p in folder.paths]
    base = Predictions(theirs.resolutions, theirs.labels[pick], theirs.top1[pick], theirs.confidence[pick], mine,
                       theirs.predictor_choice[pick], theirs.margin[pick])  # fmt: skip
    assert (base.labels == np.asarray(folder.labels)).all(), "labels differ"
    sample = scan_folder(calib, classes=net.classes, limit=check)
    fresh, _ = predict_folder(net, sample, net.resolutions, net.preprocess, progress=False)
    at = np.array([mine.index(str(p)) for p in sample.paths])
    assert (fresh.top1 == base.top1[at]).all() and (fresh.predictor_choice == base.predictor_choice[at]).all()
    assert np.abs(fresh.confidence - base.confidence[at]).max() < 1e-4
    assert macs == macs_by_resolution(net) and pm == net.predictor_macs()
    out = runs / "outcomes"
    out.mkdir(exist_ok=True)
    atomic_write(out / "backbone.fp32.fp32.pkl", lambda p: p.write_bytes(pickle.dumps(base)))
    atomic_write(out / "old.fp32.pkl", lambda p: p.write_bytes(pickle.dumps((base, macs, pm))))
    print(f"reused {pkl} for {base.n} photos; {check} recomputed here agree", flush=True)


def splice(runs: Path, variant: str, quant: Path, base: str = "old") -> None:
    """``RUNS/<variant>-int8``: a copy of ``RUNS/<base>-int8`` (the int8 files ``drnet-edge convert --int8``
    made of ``backbone.pt``: the same frozen backbone every variant has) whose predictor is the variant's,
    converted by the same code with the same recipe and quantisation views (``convert``'s per-module step
    on the predictor alone): the whole conversion redone for each predictor costs ~15 min a variant on
    the shared 2 cores, the predictor alone ~1 min. With ``variant == base`` the predictor is converted
    again into ``RUNS/<base>-int8-again``, a check that the step reproduces the full conversion's file."""
    import json
    import shutil

    from drnet_edge.convert import _convert_target, modules_to_export, quant_set
    from drnet_edge.converters import get_target
    from drnet_edge.models.checkpoint import load_model

    ckpt = runs / ("backbone.pt" if variant == "old" else f"{variant}-shipped.pt")
    net, classes, _ = load_model(ckpt)
    qset = quant_set(net, scan_folder(quant, classes=classes), 100)
    mods = modules_to_export(net)
    tmp = runs / f"{variant}-int8.predictor"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    target = get_target("tflite", via="litert")
    entry, parity = _convert_target(target, net, {"predictor": mods["predictor"]}, qset, tmp, True, print)
    dst = runs / (f"{base}-int8-again" if variant == base else f"{variant}-int8")
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(runs / f"{base}-int8", dst)
    info = entry["models"]["predictor"]
    shutil.copy(tmp / info["file"], dst / info["file"])
    manifest = json.loads((dst / "manifest.json").read_text())
    manifest["targets"]["tflite"]["models"]["predictor"] = info
    manifest["predictor_input"] = info["input_size"]  # a --thumb-size variant's thumbnail
    atomic_write_json(dst / "manifest.json", manifest)
    same = info["sha256"] == json.loads((runs / f"{base}-int8" / "manifest.json").read_text())["targets"]["tflite"][
        "models"]["predictor"]["sha256"]  # fmt: skip
    atomic_write_json(dst / "splice.json", {"backbone_files_from": f"{base}-int8", "predictor_from": str(ckpt),
                                            "predictor_parity": parity, "predictor_same_as_base": same})  # fmt: skip
    shutil.rmtree(tmp)
    print(f"{dst}: predictor of {ckpt} (sha256 {info['sha256'][:12]}; same file as {base}'s: {same})", flush=True)


def rebox(old: Path, runs: Path, rest: Path, limits: list[int]) -> None:
    import torch

    from drnet_edge.data.augment import crops_from_box, view_box
    from drnet_edge.data.preprocess import load_image
    from drnet_edge.models.checkpoint import load_model
    from drnet_edge.train.cache import _cache_key
    from drnet_edge.train.config import TrainConfig
    from drnet_edge.train.views import ViewDataset

    net, classes, _ = load_model(runs / "backbone.pt")
    store = torch.load(old, map_location="cpu", weights_only=True)
    sets = [ViewDataset(scan_folder(rest, classes=classes, limit=n), [64], net.preprocess, 0, True) for n in limits]
    index = [{str(p.resolve()): i for i, p in enumerate(ds.folder.paths)} for ds in sets]
    out, kept = {}, {n: 0 for n in limits}
    for key, entry in store.items():
        img = load_image(key)
        views = entry["thumb"].shape[0]
        for n, ds, idx in zip(limits, sets, index, strict=True):
            if key not in idx:
                continue  # the cache's views: view 0 the centre crop, then ViewDataset's seeds (seed 0)
            boxes = [view_box(img.shape, net.preprocess, ds.generator(idx[key], v or None)) for v in range(views)]
            thumbs = np.stack([crops_from_box(img, b, [64], net.preprocess)[64] for b in boxes])
            if np.array_equal(thumbs, entry["thumb"].numpy()):
                rest_of = {k: v for k, v in entry.items() if k != "thumb"}
                out[key] = {**rest_of, "thumb64": entry["thumb"], "box": torch.tensor(boxes, dtype=torch.int32)}
                kept[n] += 1
                break
    cfg = TrainConfig(data=str(rest), out=str(runs / "x.pt"), mode="predictor", init_from=str(runs / "backbone.pt"))
    dest = runs / "cache" / f"outcomes-{_cache_key(cfg, net)}.pt"
    dest.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(dest, lambda p: torch.save(out, p))
    print(f"{dest}: {len(out)} of {len(store)} entries reboxed (by --limit: {kept}); the rest run again", flush=True)


def _frontier_gain(preds: Predictions, name: str, macs: dict, pm: int) -> float:
    rows = score_policies(preds, expand_policies(["fixed", name], preds.resolutions, with_controls=False), macs, pm)
    return rows[name].extra.get("vs_fixed_frontier", {}).get("delta_pts", -1e9)


def _pick_t(preds: Predictions, macs: dict, pm: int) -> str:
    """The threshold rule, fixed before the run: most top-1 above the fixed frontier at its MACs."""
    return max((f"drnet-escalate:{t:g}" for t in GRID), key=lambda n: _frontier_gain(preds, n, macs, pm))


def _row(r) -> dict:
    out = {k: v for k, v in r.to_json().items() if k not in ("description",)}
    return out


def variant_report(preds: Predictions, macs: dict, pm: int) -> dict:
    largest = macs[max(preds.resolutions)]
    names = ["fixed", "oracle-agree", "drnet", "random"] + [f"drnet-escalate:{t:g}" for t in FIXED_T]
    rows = score_policies(preds, expand_policies(names, preds.resolutions), macs, pm)
    report = {"n": preds.n, "largest_macs": largest, "policies": {k: _row(v) for k, v in rows.items()}}
    for v in report["policies"].values():
        v["macs_ratio"] = 1e6 * v["macs_m"] / largest
    oof = out_of_fold(preds, lambda cal: _pick_t(cal, macs, pm), macs, pm, FOLDS, salt=CROSSFIT_SALT)
    right = preds.correct()
    perm = within_fold_permutation(fold_ids(preds, FOLDS, CROSSFIT_SALT), FOLDS)
    control = right[np.arange(preds.n), oof.final[perm]]
    fixed = {k: v for k, v in rows.items() if k.startswith("fixed-")}
    front = fixed_frontier_at(fixed, float(oof.macs.mean()) / 1e6)
    report["escalate_crossfit"] = {
        "folds": FOLDS,
        "chosen": oof.policies,
        **oof.estimate(largest),
        "vs_fixed_frontier": None
        if front is None
        else {"frontier_top1": front[1], "between": front[2], **paired(oof.correct, front[0])},  # fmt: skip
        "vs_control": paired(oof.correct, control),
        "control_top1": float(control.mean()),
    }
    best = _pick_t(preds, macs, pm)
    hind = score_policies(preds, expand_policies(["fixed", best], preds.resolutions), macs, pm)[best]
    report["escalate_hindsight"] = {"policy": best, **_row(hind), "macs_ratio": 1e6 * hind.macs_m / largest}
    return report


def markdown(report: dict) -> str:
    lines = ["| variant | precision | policy | top-1 | MACs vs 224 | vs random control (SE) | vs fixed frontier (SE) |",
             "|---|---|---|---|---|---|---|"]  # fmt: skip
    shown = set()
    for key, r in sorted(
        report["results"].items(), key=lambda kv: (kv[0].split(".")[1], VARIANTS.index(kv[0].split(".")[0]))
    ):
        variant, precision = key.split(".")
        pol = r["policies"]
        for name in [] if precision in shown else ("fixed-224", "fixed-192", "fixed-160", "fixed-128", "oracle-agree"):
            lines.append(f"| (backbone) | {precision} | {name} | {100 * pol[name]['top1']:.1f}% | "
                         f"{pol[name]['macs_ratio']:.2f}x | | |")  # fmt: skip
        shown.add(precision)
        for name in ["drnet", "random"] + [f"drnet-escalate:{t:g}" for t in FIXED_T]:
            p = pol[name]
            lines.append(f"| {variant} | {precision} | {name} | {100 * p['top1']:.1f}% | {p['macs_ratio']:.2f}x | "
                         f"{paired_text(p.get('vs_control'), '-')} | {paired_text(p.get('vs_fixed_frontier'), '-')} |")  # fmt: skip
        x = r["escalate_crossfit"]
        lines.append(f"| {variant} | {precision} | drnet-escalate:T, T out of fold | {100 * x['top1']:.1f}% | "
                     f"{x['macs_ratio']:.2f}x | {paired_text(x['vs_control'], '-')} | {paired_text(x['vs_fixed_frontier'], '-')} |")  # fmt: skip
        h = r["escalate_hindsight"]
        lines.append(f"| {variant} | {precision} | hindsight bound: {h['policy']} (T picked on these photos) | "
                     f"{100 * h['top1']:.1f}% | {h['macs_ratio']:.2f}x | {paired_text(h.get('vs_control'), '-')} | "
                     f"{paired_text(h.get('vs_fixed_frontier'), '-')} |")  # fmt: skip
    return "\n".join(lines) + "\n"


def report(runs: Path, out: Path) -> None:
    results = {}
    for f in sorted((runs / "outcomes").glob("*.*.pkl")):
        variant, precision = f.name.split(".")[:2]
        if variant not in VARIANTS:
            continue
        preds, macs, pm = pickle.loads(f.read_bytes())
        results[f"{variant}.{precision}"] = variant_report(preds, macs, pm)
    from drnet_edge.models.checkpoint import read_checkpoint

    split = {}
    for variant in ("warm", "fresh"):
        ckpt = runs / f"{variant}-shipped.pt"
        if ckpt.is_file():  # the split as the shipped file records it (the per-photo ids left out here)
            data = read_checkpoint(ckpt)["meta"]["data"]
            split[variant] = {k: ({a: b for a, b in v.items() if a != "ids"} if isinstance(v, dict) else v)
                              for k, v in data.items()}  # fmt: skip
    doc = {
        "hardware": {"machine": platform.machine(), "processor": platform.processor(), "cores": 2},
        "settings": {"folds": FOLDS, "threshold_grid": GRID, "fixed_thresholds": list(FIXED_T), "salt": CROSSFIT_SALT},
        "split": split,
        "results": results,
    }
    atomic_write_json(out.with_suffix(".json"), doc)
    atomic_write_text(out.with_suffix(".md"), markdown(doc))
    print(markdown(doc))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("stage", choices=("outcomes", "reuse", "splice", "report", "rebox"))
    ap.add_argument("--old", type=Path, help="rebox: an outcome cache file written before boxes were kept")
    ap.add_argument("--rest", type=Path, default=Path("../shared/data/imagewoof-train-rest"))
    ap.add_argument("--limits", default="6025,600", help="rebox: the --limit of each run that wrote the cache")
    ap.add_argument("--quant", type=Path, help="splice: the --quant-data folder of the full conversion")
    ap.add_argument("--reuse", type=Path, help="reuse: shipped_policies.py's lite0-imagewoof.fp32.outcomes.pkl")
    ap.add_argument("--check", type=int, default=40, help="reuse: photos recomputed to check it")
    ap.add_argument("--runs", type=Path, default=Path("runs/predictor-rest"))
    ap.add_argument("--calib", type=Path, default=Path("../shared/data/imagewoof-val-calib"))
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--int8", action="store_true", help="the variants' int8 TFLite files instead of fp32")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/predictor_rest"))
    args = ap.parse_args()
    if args.stage == "outcomes":
        outcomes(args.runs, args.calib, "int8" if args.int8 else "fp32", tuple(args.variants.split(",")))
    elif args.stage == "splice":
        for variant in args.variants.split(","):
            splice(args.runs, variant, args.quant)
    elif args.stage == "rebox":
        rebox(args.old, args.runs, args.rest, [int(n) for n in args.limits.split(",")])
    elif args.stage == "reuse":
        reuse_fp32(args.runs, args.calib, args.reuse, args.check)
    else:
        report(args.runs, args.out)


if __name__ == "__main__":
    main()
