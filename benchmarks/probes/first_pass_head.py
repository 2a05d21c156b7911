"""#32 point 2: can a cascade's first pass pick the second pass's resolution from what it has seen?

A head on the first pass (``lite0-imagewoof`` at 160 px, fp32 PyTorch) estimates, per photo, the chance
that the answer at 160, 192 and 224 px is right; the rule then answers at 160 or runs one more pass at
the resolution ``k`` that maximises ``p_k - lam * MACs_k / MACs_224`` (the first pass's MACs are spent
either way). Two heads, both logistic regressions fitted **only on imagewoof-train-rest** (6,025 photos
neither the backbone nor anything scored here trained on; centre crops, the deployment rule):

* ``head-softmax``: the first pass's sorted top-5 softmax, its entropy and log(p1/p2) (7 numbers);
* ``head-features``: those plus the 1280-d pooled features the classifier reads (L2 strength chosen by
  5-fold CV inside train-rest).

Against, on the same 1,925 photos of imagewoof-val-calib (scored, never fitted on):

* ``margin-160``: ``cascade-margin-160:T-192`` and ``-224`` (the bundled default's family);
* ``max-softmax-160``: ``cascade-160:T-192`` and ``-224``;
* ``every cascade``: every cascade and margin-cascade candidate ``calibrate`` replays (any chain).

Each rule's knob (``lam``, or the candidate) is chosen out of fold: 5 folds (``CROSSFIT_SALT`` hash of
class/file), on each fold the knob with the most top-1 above the fixed frontier at its MACs on the other
four, applied to this fold, pooled; its random control deals each fold's decisions to that fold's photos
at random (seed 0). Paired SEs throughout; ``head vs margin`` is the paired difference of the two rules'
gains over the fixed frontier (each at its own MACs), photo by photo, out of fold. Settings fixed before the run; nothing here was tuned on the scored photos.

    .venv/bin/python benchmarks/probes/first_pass_head.py   # ~10 min on 2 cores; caches runs/first-pass-head/
    # writes benchmarks/results/first_pass_head.{json,md,png}
"""

from __future__ import annotations

import argparse
import platform
import warnings
from pathlib import Path

import numpy as np
import torch
from gate_probes import probabilities  # one pass loop, shared with the gate probes
from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from drnet_edge._io import atomic_write, atomic_write_json, atomic_write_text
from drnet_edge.evaluate import score_policies
from drnet_edge.models.checkpoint import load_model
from drnet_edge.policy.candidates import replay_candidates
from drnet_edge.policy.crossfit import CROSSFIT_SALT, fold_ids, within_fold_permutation
from drnet_edge.policy.registry import Predictions, expand_policies
from drnet_edge.policy.rows import fixed_frontier_at, paired, paired_text

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data"
FIRST = 160
LAMBDAS = [round(x, 3) for x in np.linspace(0.0, 1.0, 41)]
FOLDS = 5
TOP = 5


def passes(model: str, data: Path, cache: Path, limit: int | None = None) -> dict[str, np.ndarray]:
    """Per photo (centre crop): probabilities at every resolution, pooled features at ``FIRST``, labels."""
    if cache.is_file():
        return dict(np.load(cache))
    torch.set_num_threads(2)
    probs, feats, labels, paths = probabilities(model, data, limit=limit, progress=True)
    out = {f"p{r}": p for r, p in probs.items()}
    out |= {"feat": feats[FIRST], "labels": labels, "paths": np.array([str(p) for p in paths])}
    cache.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(cache, lambda p: np.savez(open(p, "wb"), **out))
    return out


def stats(p: np.ndarray) -> np.ndarray:
    """The first pass's softmax summary: sorted top-5, entropy, log(p1/p2)."""
    s = np.sort(p, 1)[:, ::-1][:, :TOP]
    ent = -(p * np.log(np.clip(p, 1e-12, 1))).sum(1, keepdims=True)
    return np.hstack([s, ent, np.log(np.clip(s[:, :1], 1e-12, 1) / np.clip(s[:, 1:2], 1e-12, 1))])


def inputs(d: dict[str, np.ndarray], kind: str) -> np.ndarray:
    x = stats(d[f"p{FIRST}"])
    return x if kind == "head-softmax" else np.hstack([x, d["feat"]])


def fit_heads(train: dict[str, np.ndarray], resolutions: list[int]) -> dict[str, dict[int, object]]:
    """Per head kind and resolution in (FIRST, and every larger one): P(right there | first pass)."""
    heads: dict[str, dict[int, object]] = {}
    for kind in ("head-softmax", "head-features"):
        x = inputs(train, kind)
        heads[kind] = {}
        for r in [r for r in resolutions if r >= FIRST]:
            y = train[f"p{r}"].argmax(1) == train["labels"]
            lr = (
                LogisticRegression(max_iter=2000)
                if kind == "head-softmax"
                else LogisticRegressionCV(Cs=[1e-3, 3e-3, 1e-2, 3e-2, 0.1], cv=5, max_iter=2000)
            )
            heads[kind][r] = make_pipeline(StandardScaler(), lr).fit(x, y)
            print(f"fitted {kind} for {r} px on {len(y)} train-rest photos", flush=True)
    return heads


def to_predictions(d: dict[str, np.ndarray], resolutions: list[int]) -> Predictions:
    p = np.stack([d[f"p{r}"] for r in resolutions], 1)
    srt = np.sort(p, 2)
    return Predictions(resolutions, d["labels"], p.argmax(2), srt[..., -1], [str(x) for x in d["paths"]],
                       None, srt[..., -1] - srt[..., -2])  # fmt: skip


def head_rules(head: dict[int, object], x: np.ndarray, preds: Predictions, macs: dict[int, int]) -> dict[str, tuple]:
    """Per ``lam``: per-photo right, MACs spent and resolution answered from, on these photos."""
    res = preds.resolutions
    right = preds.correct()
    ks = [r for r in res if r >= FIRST]
    p = np.stack([head[r].predict_proba(x)[:, 1] for r in ks], 1)
    cost = np.array([0.0 if r == FIRST else macs[r] / macs[max(res)] for r in ks])
    out = {}
    for lam in LAMBDAS:
        pick = np.argmax(p - lam * cost, 1)
        final = np.array([res.index(ks[j]) for j in pick])
        spent = macs[FIRST] + np.array([0 if ks[j] == FIRST else macs[ks[j]] for j in pick], dtype=np.float64)
        out[f"lam={lam:g}"] = (right[np.arange(preds.n), final], spent, final)
    return out


def cascade_rules(preds: Predictions, macs: dict[int, int], which: str) -> dict[str, tuple]:
    right = preds.correct()
    cost = np.array([macs[r] for r in preds.resolutions], dtype=np.float64)
    out = {}
    for c in replay_candidates(preds, macs, families={"cascade", "cascade-margin"}):
        chain = c.spec.get("resolutions") or []
        if c.spec.get("kind") == "fixed":
            continue
        signal = c.spec.get("signal", "max_softmax")
        if which != "every" and (
            len(chain) != 2 or chain[0] != FIRST or signal != ("margin" if which == "margin-160" else "max_softmax")
        ):
            continue
        d = expand_policies([c.name], preds.resolutions, with_controls=False)[0].decide(preds)
        out[c.name] = (right[np.arange(preds.n), d.final], d.ran @ cost, d.final)
    return out


def gain(right: np.ndarray, spent: np.ndarray, fixed: dict) -> float:
    front = fixed_frontier_at(fixed, float(spent.mean()) / 1e6)
    return -1e9 if front is None else float(right.mean() - front[1])


def crossfit(rules: dict[str, tuple], preds: Predictions, macs: dict[int, int]) -> dict:
    ids = fold_ids(preds, FOLDS, CROSSFIT_SALT)
    right = np.zeros(preds.n, dtype=bool)
    spent = np.zeros(preds.n)
    final = np.zeros(preds.n, dtype=np.int64)
    chosen = []
    for f in range(FOLDS):
        held = ids == f
        cal = preds.subset(~held)
        fixed = score_policies(cal, expand_policies(["fixed"], cal.resolutions, with_controls=False), macs)
        best = max(rules, key=lambda n: gain(rules[n][0][~held], rules[n][1][~held], fixed))
        chosen.append(best)
        right[held], spent[held], final[held] = (rules[best][k][held] for k in range(3))
    # the control: each fold's answering resolutions dealt at random within the fold
    control = preds.correct()[np.arange(preds.n), final[within_fold_permutation(ids, FOLDS)]]
    fixed_all = score_policies(preds, expand_policies(["fixed"], preds.resolutions, with_controls=False), macs)
    front = fixed_frontier_at(fixed_all, float(spent.mean()) / 1e6)
    largest = macs[max(preds.resolutions)]
    return {
        "chosen": chosen,
        "top1": float(right.mean()),
        "macs_ratio": float(spent.mean() / largest),
        "vs_fixed_frontier": None
        if front is None
        else {"frontier_top1": front[1], "between": front[2], **paired(right, front[0])},  # fmt: skip
        "vs_control": paired(right, control),
        "control_top1": float(control.mean()),
        "_right": right,
        "_front": front[0] if front is not None else np.full(preds.n, np.nan),
    }


def main() -> None:
    warnings.filterwarnings("ignore", category=FutureWarning, module="sklearn")
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="lite0-imagewoof")
    ap.add_argument("--train", type=Path, default=SHARED / "imagewoof-train-rest")
    ap.add_argument("--calib", type=Path, default=SHARED / "imagewoof-val-calib")
    ap.add_argument("--runs", type=Path, default=ROOT / "runs" / "first-pass-head")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "first_pass_head")
    ap.add_argument("--limit", type=int, help="a smoke run on this many photos of each folder (not a result)")
    args = ap.parse_args()
    tag = f".limit{args.limit}" if args.limit else ""
    train = passes(args.model, args.train, args.runs / f"train-rest{tag}.npz", args.limit)
    val = passes(args.model, args.calib, args.runs / f"val-calib{tag}.npz", args.limit)
    net, _, _ = load_model(args.model)
    macs = {r: net.backbone_macs(k) for k, r in enumerate(net.resolutions)}
    res = list(net.resolutions)
    heads = fit_heads(train, res)
    preds = to_predictions(val, res)
    families: dict[str, dict[str, tuple]] = {}
    for kind, head in heads.items():
        families[kind] = head_rules(head, inputs(val, kind), preds, macs)
    for which in ("margin-160", "max-softmax-160", "every"):
        families[which] = cascade_rules(preds, macs, which)
    print("rules per family: " + ", ".join(f"{k} {len(v)}" for k, v in families.items()), flush=True)
    results = {}
    for fam, rules in families.items():
        results[fam] = crossfit(rules, preds, macs)
    for fam in ("head-softmax", "head-features"):
        for base in ("margin-160", "every"):
            a, b = results[fam], results[base]  # each one's gain over the frontier at its own MACs, paired
            results[fam][f"vs_{base}"] = {**paired(a["_right"] - a["_front"], b["_right"] - b["_front"]),
                                          "macs_ratio_delta": a["macs_ratio"] - b["macs_ratio"]}  # fmt: skip
    fixed = score_policies(preds, expand_policies(["fixed"], res, with_controls=False), macs)
    largest = macs[max(res)]
    curves = {fam: sorted((float(s.mean() / largest), float(r.mean())) for r, s, _ in rules.values())
              for fam, rules in families.items() if fam != "every"}  # fmt: skip
    doc = {
        "hardware": {"machine": platform.machine(), "processor": platform.processor(), "cores": 2},
        "model": args.model,
        "first_pass": FIRST,
        "fit_on": {"folder": args.train.name, "n": int(len(train["labels"]))},
        "scored_on": {"folder": args.calib.name, "n": preds.n},
        "settings": {"folds": FOLDS, "salt": CROSSFIT_SALT, "lambdas": LAMBDAS, "precision": "fp32"},
        "fixed": {k: {"top1": v.top1, "macs_ratio": 1e6 * v.macs_m / largest} for k, v in fixed.items()},
        "results": {k: {a: b for a, b in v.items() if not a.startswith("_")} for k, v in results.items()},
        "curves_in_sample": curves,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_json(args.out.with_suffix(".json"), doc)
    atomic_write_text(args.out.with_suffix(".md"), markdown(doc))
    plot(doc, args.out.with_suffix(".png"))
    print(markdown(doc))


def markdown(doc: dict) -> str:
    n = doc["scored_on"]["n"]
    lines = [
        f"First pass at {doc['first_pass']} px picks the second pass (fp32, {doc['model']}); heads fitted on "
        f"{doc['fit_on']['n']} {doc['fit_on']['folder']} photos, scored out of fold on {n} "
        f"{doc['scored_on']['folder']} photos ({doc['settings']['folds']} folds).",
        "",
        "| rule | top-1 | MACs vs 224 | vs random control (SE) | vs fixed frontier (SE) | gain over the frontier vs margin-160's (SE) | vs every cascade's (SE) |",
        "|---|---|---|---|---|---|---|",
    ]
    for k, v in doc["fixed"].items():
        lines.append(f"| {k} | {100 * v['top1']:.1f}% | {v['macs_ratio']:.2f}x | | | | |")
    for fam, r in doc["results"].items():
        lines.append(f"| {fam} (out of fold) | {100 * r['top1']:.1f}% | {r['macs_ratio']:.2f}x | {paired_text(r['vs_control'], '-')} | "
                     f"{paired_text(r['vs_fixed_frontier'], '-')} | {paired_text(r.get('vs_margin-160'), '-')} | {paired_text(r.get('vs_every'), '-')} |")  # fmt: skip
    return "\n".join(lines) + "\n"


def plot(doc: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    fx = sorted((v["macs_ratio"], v["top1"]) for v in doc["fixed"].values())
    ax.plot(*zip(*fx, strict=True), "k-o", label="fixed")
    for fam, pts in doc["curves_in_sample"].items():
        ax.plot(*zip(*pts, strict=True), ".", ms=3, label=f"{fam} (every knob, in sample)")
    for fam, r in doc["results"].items():
        ax.plot(r["macs_ratio"], r["top1"], "*", ms=10, label=f"{fam} out of fold")
    ax.set_xlabel("MACs vs 224 px")
    ax.set_ylabel("top-1")
    ax.set_xlim(0.35, 1.3)
    ax.legend(fontsize=6)
    ax.set_title(f"first pass at {doc['first_pass']} px picks the second (n={doc['scored_on']['n']})", fontsize=9)
    fig.tight_layout()
    atomic_write(path, lambda p: fig.savefig(p, dpi=120, format="png"))


if __name__ == "__main__":
    main()
