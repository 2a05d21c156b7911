"""The shipped default policies: calibrated on what ships, on enough photos, reported out of fold.

    .venv/bin/python benchmarks/release/shipped_policies.py [--out benchmarks/results/shipped_policies] \\
        [--artifacts runs/convert] [--bundle out/bundle] [--precisions fp32,int8]

Needs the TFLite int8 files made by ``bash benchmarks/release/convert_shipped.sh`` (onnx2tf route; not with
``--precisions fp32``, which writes the fp32 rows alone) and the shared photos (not shipped with the
repository; public sources in the data notes of docs/RESULTS.md).

Per model, per-image outcomes at every resolution (cached under ``--out`` as ``<model>.<precision>.<key>.outcomes.pkl``, the key from the model's files and the photos)
from the PyTorch fp32 checkpoint and from its TFLite int8 files:

* ``lite0-imagewoof`` (and ``lite0-imagewoof-base``, the plain fine-tune it must match): the 1,925
  Imagewoof validation photos plus the 628 photos of the Imagewoof training sample held out from
  training (``test:0/5``): 2,553 photos that never trained either model.
* ``lite0-imagenet``: the 500 shared ImageNet photos (its backbone is ImageNet Lite0, frozen).

Objectives, fixed before any run: ``lite0-imagewoof`` ``--target-ratio 0.60``; ``lite0-imagenet``
``--max-drop 1.0``.

**Cross-fit.** The photos are split in 5 folds by a hash salted apart from the 5 inner folds of ``calibrate``
and from ``--subset`` (:data:`drnet_edge.policy.crossfit.CROSSFIT_SALT`; before #30 the outer and inner
folds hashed alike, so the "5 inner folds" were 4, and the 628 ``test:0/5`` photos all fell in one outer
fold); each fold is scored by the policy that
``drnet-edge calibrate``'s selection (:func:`drnet_edge.policy.selection.select_policy`: policy family out of
fold on its own 5 inner folds, then the family's best) chose on the other 4; pooled, every photo is
scored once by a policy that never saw it (where the selection refuses on a fold's training part, as
``calibrate`` would, writing nothing, that fold runs the largest resolution; the row lists the refusals).
Each row: top-1, MACs against the largest resolution, and
paired differences (points, SE) against the fixed frontier at the same MACs, the policy's random
control (its decisions dealt at random within each fold), the largest resolution and the base model
at the same precision. int8 against fp32: the same photos, paired. Beside it, the hindsight bound:
the best candidate per MACs budget with thresholds picked on the scored photos (not a result).

**Bundled defaults** (``--bundle DIR`` writes the checkpoints; ``benchmarks/release/bundle_models.py`` ships
them): ``lite0-imagewoof`` calibrated on its int8 files over the 1,925 validation photos (the 628 stay
out for ``bash benchmarks/reproduce/bench_shipped_policy.sh``, the latency run); ``lite0-imagenet`` calibrated
on its fp32 checkpoint over all 500 photos (its int8 figures are reported beside it).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import pickle
import platform
from pathlib import Path

import numpy as np

from drnet_edge._io import atomic_write, atomic_write_json, sha256_file
from drnet_edge.data.folders import scan_folder
from drnet_edge.errors import ConfigError
from drnet_edge.evaluate import score_policies
from drnet_edge.models.checkpoint import read_checkpoint, save_checkpoint
from drnet_edge.policy.candidates import reference, replay_candidates
from drnet_edge.policy.crossfit import CROSSFIT_SALT, fold_ids, out_of_fold, within_fold_permutation
from drnet_edge.policy.registry import Predictions, expand_policies
from drnet_edge.policy.rows import fixed_frontier_at, paired, paired_text
from drnet_edge.policy.selection import calibration_record, select_policy
from drnet_edge.runtime.bundled import resolve_model
from drnet_edge.runtime.interface import macs_by_resolution
from drnet_edge.runtime.manifest import read_manifest
from drnet_edge.runtime.outputs import predict_folder
from drnet_edge.runtime.source import ModelSource, open_model

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
FOLDS = 5
WOOF = [("imagewoof-val-calib", None), ("imagewoof-train-3k", "test:0/5")]
MODELS = {
    # model: (photo sets, objective, base model, photo sets the bundled default is calibrated on, source)
    "lite0-imagewoof": (WOOF, {"target_ratio": 0.60}, "lite0-imagewoof-base", WOOF[:1], "int8"),
    "lite0-imagenet": ([("imagenet-sample-dev", None)], {"max_drop": 1.0}, None, None, "fp32"),
}
Record = tuple[Predictions, dict, int]  # outcomes, MACs per resolution, predictor MACs


def concat(parts: list[Predictions]) -> Predictions:
    """Outcomes of several photo sets, one after the other."""
    cat = lambda k: None if getattr(parts[0], k) is None else np.concatenate([getattr(p, k) for p in parts])  # noqa: E731
    return Predictions(
        list(parts[0].resolutions), cat("labels"), cat("top1"), cat("confidence"),
        [s for p in parts for s in p.paths], cat("predictor_choice"), cat("margin"),
    )  # fmt: skip


def outcome_key(source: Path, *photos: object) -> str:
    """What a cached outcome depends on: the model's files (a checkpoint's sha256, or the sha256 of every
    model file an artifact folder's manifest lists) and the photos. A re-bundled checkpoint or a re-converted
    folder computes its outcomes again instead of reading the old model's."""
    if source.is_dir():
        found = [m.sha256 for t in read_manifest(source).targets.values() for m in t.models.values()]
    else:
        found = [sha256_file(source)]
    return hashlib.sha256(json.dumps([sorted(found), *photos]).encode()).hexdigest()[:16]


def cached_outcomes(
    source: ModelSource, sets: list[tuple[Path, str | None]], cache: Path, limit: int | None = None
) -> Record:
    """``(Predictions, MACs per resolution, predictor MACs)`` of the model ``source`` names (opened by
    :func:`drnet_edge.runtime.source.open_model`, the one door) on the photo sets ``(folder, --subset)``, one
    after the other, every photo at every resolution; cached at ``cache`` (whose name the caller keys with
    :func:`outcome_key`)."""
    if cache.is_file():
        return pickle.loads(cache.read_bytes())
    net, classes = open_model(source, threads=2)
    parts = []
    for folder, subset in sets:
        preds, skipped = predict_folder(net, scan_folder(folder, classes=classes, subset=subset, limit=limit),
                                        net.resolutions, net.preprocess)  # fmt: skip
        assert not skipped, skipped
        parts.append(preds)
    out = (concat(parts), macs_by_resolution(net), net.predictor_macs())
    atomic_write(cache, lambda p: p.write_bytes(pickle.dumps(out)))
    return out


def outcomes(model: str, precision: str, sets: list, arts: Path, out: Path) -> Record:
    """Per-image outcomes of ``model`` (fp32 checkpoint or its int8 TFLite files) on the photo sets, cached
    in ``out`` under the model files' and the photos' key."""
    if precision == "int8":
        path = arts / f"{model}-onnx2tf-int8"
        source = ModelSource(artifacts=path, runtime="tflite")
    else:
        path = resolve_model(model)
        source = ModelSource(model=path)
    cache = out / f"{model}.{precision}.{outcome_key(Path(path), [list(x) for x in sets])}.outcomes.pkl"
    return cached_outcomes(source, [(SHARED / name, subset) for name, subset in sets], cache)


def crossfit_row(preds: Predictions, macs: dict, pred_macs: int, objective: dict, base: Predictions | None) -> dict:
    """The objective cross-fitted over FOLDS folds, pooled, against the frontier, control, largest, base."""
    full = {"max_drop": None, "target_ratio": None, "require_bound": False, **objective}
    refusals: list[str] = []

    def choose(cal: Predictions) -> str:
        try:
            return select_policy(cal, macs, pred_macs, **full).chosen.name
        except ConfigError as exc:  # calibrate would refuse (writes nothing): the fold runs the largest resolution
            refusals.append(str(exc))
            return f"fixed-{max(preds.resolutions)}"

    oof = out_of_fold(preds, choose, macs, pred_macs, FOLDS, salt=CROSSFIT_SALT)
    right = preds.correct()
    perm = within_fold_permutation(fold_ids(preds, FOLDS, CROSSFIT_SALT), FOLDS)  # the control
    control = right[np.arange(preds.n), oof.final[perm]]
    fixed = score_policies(preds, expand_policies(["fixed"], preds.resolutions), macs)
    largest = macs[max(preds.resolutions)]
    row = {
        "n": preds.n,
        "folds": FOLDS,
        "policies": oof.policies,
        "refused": refusals,  # folds where calibrate's selection refused (scored at the largest resolution)
        **oof.estimate(largest),
        "fixed": {k: {"top1": v.top1, "macs_ratio": 1e6 * v.macs_m / largest} for k, v in fixed.items()},
        "vs_control": paired(oof.correct, control),
        **comparisons(oof.correct, fixed, float(oof.macs.mean()) / 1e6, preds, base),
    }
    return {**row, "correct": oof.correct.tolist()}


def comparisons(correct: np.ndarray, rows: dict, macs_m: float, preds: Predictions, base: Predictions | None) -> dict:
    """Paired differences (points, SE) of a policy's per-photo ``correct`` against the fixed frontier of
    ``rows`` at ``macs_m``, the largest resolution of ``preds`` and the base's largest (with its top-1)."""
    front = fixed_frontier_at(rows, macs_m)
    return {
        "vs_fixed_frontier": None if front is None else {"between": front[2], **paired(correct, front[0])},
        "vs_largest": paired(correct, preds.correct()[:, 0]),
        "vs_base": None if base is None else {"base_top1": float(base.correct()[:, 0].mean()), **paired(correct, base.correct()[:, 0])},
    }  # fmt: skip


def hindsight(preds: Predictions, macs: dict, pred_macs: int, budgets: tuple = (0.60, 0.62, 0.70, 0.90)) -> dict:
    """The most accurate candidate within each MACs budget with thresholds picked on the very photos
    scored: an upper bound for the candidates ``calibrate`` tries, not a result."""
    cands = replay_candidates(preds, macs, pred_macs)
    ref = reference(cands).macs
    best = {b: max((c for c in cands if c.macs <= b * ref + 1e-6), key=lambda c: c.top1) for b in budgets}
    return {f"{b:.2f}": {"policy": c.name, "top1": c.top1, "macs_ratio": c.macs / ref} for b, c in best.items()}


def held_out_row(name: str, preds: Predictions, macs: dict, pred_macs: int, base: Predictions | None) -> dict:
    """The policy ``name`` replayed on photos it was not calibrated on: top-1, MACs against the largest
    resolution, paired differences (points, SE) against the fixed frontier, fixed-224 and the base (the
    figures beside ``bench_shipped_policy.sh``'s latency run, which benches the same policy on them)."""
    rows = score_policies(preds, expand_policies(["fixed", name], preds.resolutions), macs, pred_macs)
    row = rows[name]
    return {
        "n": preds.n,
        "top1": row.top1,
        "macs_ratio": 1e6 * row.macs_m / macs[max(preds.resolutions)],
        **comparisons(np.asarray(row.correct, dtype=np.float64), rows, row.macs_m, preds, base),
    }


def bundle(model: str, preds: Predictions, macs: dict, pred_macs: int, objective: dict, source: dict, data: str,
           dest: Path | None) -> dict:  # fmt: skip
    """The default policy calibrated on ``preds``; written into a copy of the checkpoint under ``dest``."""
    full = {"max_drop": None, "target_ratio": None, "require_bound": False, **objective}
    sel = select_policy(preds, macs, pred_macs, **full)
    record = calibration_record(sel, preds, objective=full, data=data, source=source)
    if dest is not None:
        ckpt = read_checkpoint(resolve_model(model))
        ckpt["policy"] = record
        save_checkpoint(dest / f"{model}.pt", ckpt)
    return record


def run_model(model: str, out: Path, arts: Path, dest: Path | None, precisions: tuple = ("fp32", "int8")) -> dict:
    sets, objective, base_name, bundle_sets, bundle_on = MODELS[model]
    result: dict = {"model": model, "objective": objective, "photos": [f"{n}{f' ({s})' if s else ''}" for n, s in sets]}
    per = {}
    for precision in precisions:
        preds, macs, pm = outcomes(model, precision, sets, arts, out)
        base = None
        if base_name:
            base = outcomes(base_name, precision, sets, arts, out)[0]
            assert [Path(p).name for p in base.paths] == [Path(p).name for p in preds.paths], "same photos, same order"
        per[precision] = crossfit_row(preds, macs, pm, objective, base)
        per[precision]["hindsight"] = hindsight(preds, macs, pm)
        if precision == bundle_on:
            n_first = sum(1 for p in preds.paths if SHARED / bundle_sets[0][0] in Path(p).parents) if bundle_sets else 0
            cal = preds.subset(np.arange(n_first)) if bundle_sets else preds
            where = ", ".join(n for n, _ in (bundle_sets or sets))
            src = {"model": model, "runtime": "tflite" if precision == "int8" else "pytorch", "precision": precision,
                   "route": "onnx2tf" if precision == "int8" else None}  # fmt: skip
            result["bundled"] = bundle(model, cal, macs, pm, objective, src, where, dest)
            if bundle_sets and n_first < preds.n:  # the bundled policy on the photos it was not calibrated on
                rest = np.arange(n_first, preds.n)
                result["bundled"]["held_out"] = held_out_row(
                    result["bundled"]["name"], preds.subset(rest), macs, pm, None if base is None else base.subset(rest)
                )
    correct = {prec: np.array(row.pop("correct")) for prec, row in per.items()}
    result["crossfit"] = per
    if len(correct) == 2:
        result["int8_vs_fp32"] = paired(correct["int8"], correct["fp32"])
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/shipped_policies"))
    ap.add_argument("--artifacts", type=Path, default=Path("runs/convert"), help="where convert_shipped.sh wrote")
    ap.add_argument("--bundle", type=Path, default=None, help="write the calibrated checkpoints here")
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--precisions", default="fp32,int8", help="fp32 alone needs no converted files (no int8 rows)")
    args = ap.parse_args()
    precisions = tuple(p for p in ("fp32", "int8") if p in args.precisions.split(","))
    if not SHARED.is_dir():
        raise SystemExit(f"{SHARED}: the shared photos are not here (they are not shipped with the repository)")
    args.out.mkdir(parents=True, exist_ok=True)
    results = [run_model(m, args.out, args.artifacts, args.bundle, precisions) for m in args.models.split(",")]
    report = {"hardware": {"machine": platform.machine(), "processor": platform.processor()}, "models": results}
    atomic_write_json(args.out / "results.json", report)
    f = lambda d: paired_text(d, "-")  # noqa: E731
    for r in results:
        for prec, row in r["crossfit"].items():
            print(f"{r['model']} {prec} n={row['n']}: {100 * row['top1']:.1f}% at {row['macs_ratio']:.3f}x; "
                  f"frontier {f(row['vs_fixed_frontier'])} control {f(row['vs_control'])} largest {f(row['vs_largest'])} "
                  f"base {f(row['vs_base'])}; {sorted(set(row['policies']))}; refused on {len(row['refused'])} folds")  # fmt: skip
        bundled = r["bundled"]["name"] if "bundled" in r else "- (its precision not run)"
        print(f"{r['model']} int8 - fp32: {r.get('int8_vs_fp32', '-')}; bundled {bundled}")
        if "held_out" in r.get("bundled", {}):
            h = r["bundled"]["held_out"]
            print(f"  {bundled} on the {h['n']} photos it was not calibrated on: {100 * h['top1']:.1f}% at "
                  f"{h['macs_ratio']:.2f}x; frontier {f(h['vs_fixed_frontier'])} largest {f(h['vs_largest'])} "
                  f"base {f(h['vs_base'])}")  # fmt: skip


if __name__ == "__main__":
    main()
