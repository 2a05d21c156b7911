"""drnet-edge: dynamic-resolution networks (DRNet) from PyTorch to measured edge inference.

Public API (everything the CLI does is one of these calls)::

    import drnet_edge as de
    drnet, classes, _ = de.load_model("lite0-imagenet")       # bundled DRNet
    report = de.evaluate(de.sample_dir(), model="lite0-imagenet")
    print(report.policies["drnet"].top1, report.policies["drnet"].macs_m)
"""

from .backbones import BackboneCfg, create_backbone, get_backbone_cfg, list_backbones, register_backbone
from .checkpoint import list_models, load_model
from .data import ClassList, ImageFolder, imagenet_classes, read_class_file, sample_dir, scan_folder
from .drnet import DRNet, ResolutionBN, ResolutionPredictor, make_resolution_aware, set_resolution
from .errors import BadImageError, CheckpointError, ConfigError, DataError, DrnetEdgeError, WeightsError
from .evaluate import EvalReport, evaluate, parse_resolutions, predict_folder
from .macs import backbone_macs, count_macs
from .policies import Policy, Predictions, expand_policies, list_policies, register_policy
from .preprocess import Preprocess, crop_and_resize, load_image, to_tensor
from .train import TrainConfig, train

__version__ = "0.1.0"

__all__ = [
    "BackboneCfg",
    "DRNet",
    "ResolutionBN",
    "ResolutionPredictor",
    "list_models",
    "load_model",
    "make_resolution_aware",
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
