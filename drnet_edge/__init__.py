"""drnet-edge: dynamic-resolution networks (DRNet) from PyTorch to measured edge inference.

Public API (everything the CLI does is one of these calls)::

    import drnet_edge as de
    drnet, classes, _ = de.load_model("lite0-imagenet")       # bundled DRNet
    report = de.evaluate(de.sample_dir(), model="lite0-imagenet")  # fixed-R rows, the default policy, its control
    row = report.policies[report.default_policy]  # the calibrated default (policies=[..., "drnet"] for the predictor)
    print(report.default_policy, row.top1, row.macs_m)
"""

import sys
import types
from typing import TYPE_CHECKING, Any

from ._lazy import lazy_getattr

# name -> module: imported on first use, so `import drnet_edge.runtime` or `drnet_edge.bench` never
# pulls in the trainer (DDP, DataLoader workers) or an export tool.
_LAZY = {
    "BackboneCfg": "models.backbones",
    "BadImageError": "errors",
    "CheckpointError": "errors",
    "ClassList": "data.classes",
    "ConfigError": "errors",
    "DRNet": "models.drnet",
    "DataError": "errors",
    "DrnetEdgeError": "errors",
    "EvalReport": "evaluate",
    "ImageFolder": "data.folders",
    "Manifest": "runtime.manifest",
    "ModelSource": "runtime.source",
    "Policy": "policy.registry",
    "PolicyRow": "policy.rows",
    "Predictions": "policy.registry",
    "Preprocess": "data.preprocess",
    "ResolutionBN": "models.drnet",
    "ResolutionPredictor": "models.drnet",
    "RunnableDRNet": "runtime.interface",
    "TrainConfig": "train",
    "WeightsError": "errors",
    "backbone_macs": "models.macs",
    "calibrate": "calibrate",
    "count_macs": "models.macs",
    "create_backbone": "models.backbones",
    "crop_and_resize": "data.preprocess",
    "evaluate": "evaluate",
    "expand_policies": "policy.registry",
    "fixed_frontier_at": "policy.rows",
    "out_of_fold": "policy.crossfit",
    "get_backbone_cfg": "models.backbones",
    "imagenet_classes": "data.classes",
    "list_backbones": "models.backbones",
    "list_models": "runtime.bundled",
    "list_policies": "policy.registry",
    "load_image": "data.preprocess",
    "load_model": "models.checkpoint",
    "make_resolution_aware": "models.drnet",
    "open_model": "runtime.source",
    "parse_resolutions": "resolutions",
    "predict_folder": "runtime.outputs",
    "read_class_file": "data.classes",
    "read_manifest": "runtime.manifest",
    "register_backbone": "models.backbones",
    "register_policy": "policy.registry",
    "sample_dir": "data.folders",
    "scan_folder": "data.folders",
    "select_policy": "policy.selection",
    "set_resolution": "models.drnet",
    "to_tensor": "data.preprocess",
    "train": "train",
}


__getattr__ = lazy_getattr(__name__, _LAZY, globals())


class _Package(types.ModuleType):
    """Importing the submodule ``drnet_edge.evaluate`` (or ``train``, ``calibrate``) must not replace
    the public function of the same name on the package: the function wins, as with eager imports."""

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, types.ModuleType) and _LAZY.get(name) == name:
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


if TYPE_CHECKING:  # static analysers see the eager imports
    from .calibrate import calibrate
    from .data.classes import ClassList, imagenet_classes, read_class_file
    from .data.folders import ImageFolder, sample_dir, scan_folder
    from .data.preprocess import Preprocess, crop_and_resize, load_image, to_tensor
    from .errors import BadImageError, CheckpointError, ConfigError, DataError, DrnetEdgeError, WeightsError
    from .evaluate import EvalReport, evaluate
    from .models.backbones import BackboneCfg, create_backbone, get_backbone_cfg, list_backbones, register_backbone
    from .models.checkpoint import load_model
    from .models.drnet import DRNet, ResolutionBN, ResolutionPredictor, make_resolution_aware, set_resolution
    from .models.macs import backbone_macs, count_macs
    from .policy.crossfit import out_of_fold
    from .policy.registry import Policy, Predictions, expand_policies, list_policies, register_policy
    from .policy.rows import PolicyRow, fixed_frontier_at
    from .policy.selection import select_policy
    from .resolutions import parse_resolutions
    from .runtime.bundled import list_models
    from .runtime.interface import RunnableDRNet
    from .runtime.manifest import Manifest, read_manifest
    from .runtime.outputs import predict_folder
    from .runtime.source import ModelSource, open_model
    from .train import TrainConfig, train

__version__ = "0.1.0"

__all__ = [
    "Manifest",
    "ModelSource",
    "PolicyRow",
    "RunnableDRNet",
    "calibrate",
    "select_policy",
    "out_of_fold",
    "fixed_frontier_at",
    "read_manifest",
    "BackboneCfg",
    "DRNet",
    "ResolutionBN",
    "ResolutionPredictor",
    "list_models",
    "load_model",
    "make_resolution_aware",
    "open_model",
    "set_resolution",
    "train",
    "TrainConfig",
    "BadImageError",
    "CheckpointError",
    "ClassList",
    "ConfigError",
    "DataError",
    "DrnetEdgeError",
    "EvalReport",
    "ImageFolder",
    "Policy",
    "Predictions",
    "Preprocess",
    "WeightsError",
    "backbone_macs",
    "count_macs",
    "create_backbone",
    "crop_and_resize",
    "evaluate",
    "expand_policies",
    "get_backbone_cfg",
    "imagenet_classes",
    "list_backbones",
    "list_policies",
    "load_image",
    "parse_resolutions",
    "predict_folder",
    "read_class_file",
    "register_backbone",
    "register_policy",
    "sample_dir",
    "scan_folder",
    "to_tensor",
]
