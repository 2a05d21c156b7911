"""The registered targets, keyed by name and route: what each writes (``name``, ``suffix``), what it
needs (runtime and export packages, the pip extras that install them), and its two halves, the
``loader`` (a module of :mod:`.load`, deploy side) and the ``exporter`` (a module of :mod:`.export`,
build side, imported on first export). A new target is a class here, an exporter module, and a loader
module unless an existing runtime runs its files."""

from __future__ import annotations

from .base import Target, register_target
from .load import executorch_xnnpack, onnx_ort, tflite


@register_target
class TFLiteTarget(Target):
    """TFLite through litert-torch (int8: PT2E, int8 input and output tensors), run with ai-edge-litert."""

    name = "tflite"
    suffix = ".tflite"
    route = "litert"
    loader = tflite
    exporter = "tflite_litert"
    runtime_packages = ("ai-edge-litert",)
    export_packages = ("litert-torch", "torchao")  # torchao: PT2E int8
    default = True  # --via litert unless told otherwise
    extra = "tflite"
    runtime_extra = ""
    shares_weights = True  # LiteRT signatures over one copy of the weights


@register_target
class TFLiteOnnx2tfTarget(TFLiteTarget):
    """TFLite through ONNX and onnx2tf (``--via onnx2tf``), run as the litert route's files are."""

    route = "onnx2tf"
    exporter = "tflite_onnx2tf"
    export_packages = (
        "onnx",
        "onnxsim",
        "onnx2tf",
        "tensorflow",
        "tf-keras",
        "onnx-graphsurgeon",
        "sng4onnx",
        "psutil",
    )
    default = False
    extra = "onnx"
    shares_weights = False  # onnx2tf writes one graph per file


@register_target
class ExecuTorchTarget(Target):
    """ExecuTorch ``.pte`` delegated to XNNPACK (int8: XNNPACKQuantizer, PT2E)."""

    name = "executorch"
    suffix = ".pte"
    loader = executorch_xnnpack
    exporter = "executorch_xnnpack"
    runtime_packages = ("executorch",)
    export_packages = ("executorch", "torchao")  # torchao: PT2E int8
    extra = "executorch"
    runtime_extra = "executorch"
    shares_weights = True  # XNNPACK's named data store keeps one copy of weights shared by methods


@register_target
class OnnxTarget(Target):
    """ONNX (opset 17, simplified by onnxsim) for onnxruntime (int8: its static QDQ quantization)."""

    name = "onnx"
    suffix = ".onnx"
    loader = onnx_ort
    exporter = "onnx_ort"
    runtime_packages = ("onnxruntime",)
    export_packages = ("onnx", "onnxsim")  # int8 quantization is onnxruntime's
    extra = "onnx"
    runtime_extra = "ort"
