"""How well can a cascade's gate tell a right low-resolution answer from a wrong one? Probes on the 500
shared ImageNet photos with the bundled lite0-imagenet (frozen ImageNet Lite0):

* AUROC of max softmax, entropy, the log-ratio of the top two probabilities, and a logistic-regression
  gate over six softmax features (5-fold cross-validated predictions), for correctness at 160 and 128;
* median max softmax per resolution (are low resolutions over-confident?);
* averaging the low- and high-resolution probabilities for escalated photos, against plain escalation;
* a gate that looks at the image: logistic regression on the backbone's 1280-d pooled features at that
  resolution (what the classifier sees), with and without max softmax, 5-fold cross-validated over a
  grid of L2 strengths chosen inside each training fold.

    .venv/bin/python benchmarks/probes/gate_probes.py   # writes benchmarks/results/gate_probes.json
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from drnet_edge._io import atomic_write_json
from drnet_edge.data.folders import MultiResolutionDataset, collate_multires, scan_folder
from drnet_edge.data.preprocess import to_tensor
from drnet_edge.models.checkpoint import load_model
from drnet_edge.progress import progress_bar

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "imagenet-sample-dev"
OUT = Path(__file__).resolve().parents[1] / "results" / "gate_probes.json"


@torch.no_grad()
def probabilities(
    model: str, data: Path, limit: int | None = None, progress: bool = False
) -> tuple[dict[int, np.ndarray], dict[int, np.ndarray], np.ndarray, list[Path]]:
    """Softmax and pooled features (the classifier's input) per resolution, the labels and the paths, one
    centre crop per photo (``first_pass_head.py`` reads the same passes)."""
    net, classes, _ = load_model(model)
    net.eval()
    folder = scan_folder(data, classes=classes, limit=limit)
    ds = MultiResolutionDataset(folder, net.resolutions, net.preprocess)
    probs: dict[int, list[np.ndarray]] = {r: [] for r in net.resolutions}
    feats: dict[int, list[np.ndarray]] = {r: [] for r in net.resolutions}
    seen: list[np.ndarray] = []
    hook = net.backbone.classifier.register_forward_pre_hook(lambda m, args: seen.append(args[0].numpy()))
    with progress_bar(len(ds), f"{data.name}: {len(net.resolutions)} passes", enabled=progress) as advance:
        for i in range(0, len(ds), 32):
            batch = collate_multires([ds[j] for j in range(i, min(i + 32, len(ds)))])
            for k, r in enumerate(net.resolutions):
                x = to_tensor(batch["crops"][r], net.preprocess)
                probs[r].append(net.backbone_at(x, k).softmax(1).numpy())
                feats[r].append(seen.pop().astype(np.float32))
            advance(len(batch["index"]))
    hook.remove()
    stack = lambda d: {r: np.concatenate(v) for r, v in d.items()}  # noqa: E731
    return stack(probs), stack(feats), np.asarray(folder.labels), list(folder.paths)


def gate_aurocs(p: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    s = np.sort(p, 1)[:, ::-1]
    right = p.argmax(1) == labels
    entropy = -(p * np.log(p + 1e-9)).sum(1)
    log_gap = np.log(s[:, 0] + 1e-6) - np.log(s[:, 1] + 1e-6)
    feats = np.stack([s[:, 0], s[:, 1], s[:, 0] - s[:, 1], s[:, :5].sum(1), entropy, log_gap], 1)
    learned = cross_val_predict(LogisticRegression(max_iter=1000), feats, right, cv=5, method="predict_proba")[:, 1]
    return {
        "max_softmax": float(roc_auc_score(right, s[:, 0])),
        "margin": float(roc_auc_score(right, s[:, 0] - s[:, 1])),
        "entropy": float(roc_auc_score(right, -entropy)),
        "log_gap": float(roc_auc_score(right, log_gap)),
        "logistic_gate_cv5": float(roc_auc_score(right, learned)),
    }


def feature_gate_aurocs(f: np.ndarray, p: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """AUROC of a logistic gate on pooled features (and on features + max softmax), 5-fold CV."""
    right = p.argmax(1) == labels
    gate = make_pipeline(StandardScaler(), LogisticRegressionCV(Cs=[1e-4, 1e-3, 1e-2, 1e-1], max_iter=2000))
    out = {}
    for name, x in (("features", f), ("features_and_max_softmax", np.hstack([f, p.max(1, keepdims=True)]))):
        score = cross_val_predict(gate, x, right, cv=5, method="predict_proba")[:, 1]
        out[f"logistic_{name}_cv5"] = float(roc_auc_score(right, score))
    return out


def main() -> None:
    probs, feats, labels, _ = probabilities("lite0-imagenet", DATA)
    top = max(probs)
    result = {
        "photos": str(DATA),
        "n": len(labels),
        "top1": {str(r): float((p.argmax(1) == labels).mean()) for r, p in probs.items()},
        "median_max_softmax": {str(r): float(np.median(p.max(1))) for r, p in probs.items()},
        "auroc_right_at": {
            str(r): gate_aurocs(probs[r], labels) | feature_gate_aurocs(feats[r], probs[r], labels) for r in (160, 128)
        },
        "all_escalated_average_of_passes_top1": {
            str(r): float(((probs[r] + probs[top]).argmax(1) == labels).mean()) for r in (192, 160)
        },
    }
    atomic_write_json(OUT, result)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
