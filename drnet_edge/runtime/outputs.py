"""Per-image outputs of a model on a folder: every image at every resolution (one decode per image),
its top-1, max softmax and top-1 minus top-2 margin, and the predictor's choice. What ``eval`` and
``calibrate`` replay the policies on.

Torch-free: batches are numpy arrays, and the model is a :class:`~drnet_edge.runtime.interface.RunnableDRNet`
(converted files, or a PyTorch model behind :class:`~drnet_edge.models.runnable.TorchRunnable` on the build
side), so every model goes through the same loop and
the same arithmetic (:func:`per_image_outputs`).
"""

from __future__ import annotations

import numpy as np

from ..data.folders import ImageFolder, MultiResolutionDataset, collate_multires
from ..data.preprocess import Preprocess, to_array
from ..errors import ConfigError, DataError
from ..policy.registry import Predictions
from ..policy.spec import softmax
from ..progress import progress_bar
from .interface import RunnableDRNet


def per_image_outputs(logits: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row of an (N, C) batch of logits: top-1 (int64; ties, common with int8 logits, go to the lower
    class index, as numpy's argmax in the bench, ``verify`` and the Android core), max softmax and top-1
    minus top-2 softmax probability (float32; 0 with one class). Softmax in float64, as the deployed loop
    (:func:`~drnet_edge.policy.spec.softmax_signals`) computes it."""
    z = np.asarray(logits, dtype=np.float64)
    p = softmax(z)
    top2 = np.partition(p, -2, axis=1)[:, -2:] if p.shape[1] > 1 else np.repeat(p, 2, axis=1)
    conf = top2[:, 1]
    return z.argmax(axis=1).astype(np.int64), conf.astype(np.float32), (conf - top2[:, 0]).astype(np.float32)


# Long because it records four per-image outputs (top-1, confidence, margin, choice) in one pass.
def predict_folder(
    model: RunnableDRNet,
    folder: ImageFolder,
    resolutions: list[int],
    pre: Preprocess,
    *,
    batch_size: int = 32,
    skip_bad: bool = False,
    progress: bool = True,
    chosen_only: bool = False,
) -> tuple[Predictions, list[str]]:
    """Run ``model`` on every image at every resolution (one decode per image).

    ``model`` is a :class:`~drnet_edge.runtime.interface.RunnableDRNet` (converted files, or a PyTorch model
    behind :class:`drnet_edge.models.runnable.TorchRunnable`). With ``chosen_only`` each image runs at its predictor-chosen resolution alone, as
    deployed; the other columns of ``top1`` hold -2. Returns the predictions and the skipped paths.
    """
    net = model
    if chosen_only and not net.has_predictor:
        raise ConfigError("chosen-only evaluation needs a DRNet with a predictor")
    index = [net.resolutions.index(r) for r in resolutions]
    sizes = list(resolutions) + ([net.thumb_size] if net.has_predictor else [])
    ds = MultiResolutionDataset(folder, sizes, pre, skip_bad=skip_bad)
    kept, top1, conf, margin, choices = [], [], [], [], []
    with progress_bar(len(ds), "evaluating", enabled=progress) as advance:
        for start in range(0, len(ds), batch_size):
            batch = collate_multires([ds[i] for i in range(start, min(start + batch_size, len(ds)))])
            n = len(batch["index"])
            if n:
                kept.append(batch["index"])
                t1 = np.full((n, len(resolutions)), -2, dtype=np.int64)
                cf = np.zeros((n, len(resolutions)), dtype=np.float32)
                mg = np.zeros((n, len(resolutions)), dtype=np.float32)
                choice: np.ndarray | None = None
                if net.has_predictor:
                    choice = np.asarray(net.choose(to_array(batch["crops"][net.thumb_size], pre)), dtype=np.int64)
                    choices.append(choice)
                for j, (k, r) in enumerate(zip(index, resolutions, strict=True)):
                    rows = np.arange(n) if choice is None or not chosen_only else np.nonzero(choice == k)[0]
                    if not len(rows):
                        continue
                    logits = net.backbone_at(to_array(batch["crops"][r][rows], pre), k)
                    t1[rows, j], cf[rows, j], mg[rows, j] = per_image_outputs(logits)
                top1.append(t1)
                conf.append(cf)
                margin.append(mg)
            advance(n + batch["n_bad"])
    idx = np.concatenate(kept) if kept else np.zeros(0, dtype=np.int64)
    if not len(idx):
        raise DataError(f"no readable image in {folder.root}")
    kept_paths = {str(folder.paths[i]) for i in idx}
    skipped = [str(p) for p in folder.paths if str(p) not in kept_paths]
    preds = Predictions(
        resolutions=list(resolutions),
        labels=np.asarray(folder.labels, dtype=np.int64)[idx],
        top1=np.concatenate(top1),
        confidence=np.concatenate(conf),
        paths=[str(folder.paths[i]) for i in idx],
        predictor_choice=np.concatenate(choices) if choices else None,
        margin=np.concatenate(margin),
    )
    return preds, skipped
