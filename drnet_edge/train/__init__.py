"""Training: ``predictor`` mode (frozen backbone), ``joint`` mode (the paper's recipe) and
``plain`` mode (fine-tune at the largest resolution only: the fixed-resolution baseline).

* predictor mode runs the frozen backbone once on ``views`` augmented views of every image
  (a resumable on-disk cache of per-resolution losses and thumbnails), then trains the predictor
  for many cheap epochs with Gumbel-softmax and the MACs constraint. Works on a laptop CPU.
* joint mode: multi-resolution training of the resolution-aware backbone, then joint fine-tuning
  with the predictor (predictor at 0.1x the learning rate); the batch is split by chosen resolution
  (``joint_forward="chosen"``) or every image runs at every resolution (``"all"``; ``"auto"``
  picks ``all`` on CUDA, ``chosen`` elsewhere).
* Every mode: one checkpoint per epoch written atomically, ``resume`` continues exactly, per-epoch
  metrics in ``<out>.metrics.jsonl``, deterministic for a seed, runs under ``torchrun`` (DDP).

One job per module: :mod:`.config` (``TrainConfig``), :mod:`.views` (the data set),
:mod:`.distributed` (torchrun), :mod:`.setup` (the model to train and weights from checkpoints),
:mod:`.cache` (predictor mode's outcome cache), :mod:`.split` (which photos trained the backbone and
which the predictor, recorded in the checkpoint), :mod:`.step` (``TrainStep``), :mod:`.interrupt`
(Ctrl-C: stop after the batch in hand), :mod:`.summary` (the closing summary) and :mod:`.trainer`
(``Trainer`` and ``train()``).
"""

from typing import TYPE_CHECKING

from .._lazy import lazy_getattr

# name -> module, imported on first use: ``drnet_edge.train.config`` (what ``drnet-edge train`` checks
# before anything heavy) comes without PyTorch; the rest imports it.
_LAZY = {
    "JOINT_FORWARDS": "config",
    "MODES": "config",
    "TrainConfig": "config",
    "pick_mode": "config",
    "resolve_joint_forward": "config",
    "outcome_cache": "cache",
    "Dist": "distributed",
    "init_distributed": "distributed",
    "build_for_training": "setup",
    "load_weights": "setup",
    "macs_table": "setup",
    "target_macs_m": "setup",
    "TrainStep": "step",
    "Trainer": "trainer",
    "interrupted_note": "trainer",
    "train": "trainer",
    "ViewDataset": "views",
    "collate_views": "views",
}


__getattr__ = lazy_getattr(__name__, _LAZY, globals())


if TYPE_CHECKING:  # static analysers see the eager imports
    from .cache import outcome_cache
    from .config import JOINT_FORWARDS, MODES, TrainConfig, pick_mode, resolve_joint_forward
    from .distributed import Dist, init_distributed
    from .setup import build_for_training, load_weights, macs_table, target_macs_m
    from .step import TrainStep
    from .trainer import Trainer, interrupted_note, train
    from .views import ViewDataset, collate_views

__all__ = [
    "Dist",
    "JOINT_FORWARDS",
    "MODES",
    "TrainConfig",
    "TrainStep",
    "Trainer",
    "ViewDataset",
    "build_for_training",
    "collate_views",
    "init_distributed",
    "interrupted_note",
    "load_weights",
    "macs_table",
    "outcome_cache",
    "pick_mode",
    "resolve_joint_forward",
    "target_macs_m",
    "train",
]
