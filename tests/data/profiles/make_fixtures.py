"""Regenerate the op-profile fixtures of this folder from real host runs (about a minute on 2 cores):

    PYTHONPATH=. .venv/bin/python tests/data/profiles/make_fixtures.py

A small conv net (conv, depthwise conv, ReLU, global pool, linear; fp32, 1x3x32x32 input) is exported to
ONNX and to an ExecuTorch ``.pte`` lowered to XNNPACK, then run with each runtime's own profiler:

* ``ort_profile_tiny.json``: ONNX Runtime's profiler output (``SessionOptions.enable_profiling``), as written
  (one warm-up run, then 2 profiled runs);
* ``tiny_xnnpack.etdp``: the ETDump ExecuTorch's runtime wrote (``_load_for_executorch(..., enable_etdump=True)``,
  3 runs, ``write_etdump_result_to_file``), read back in the tests with ``executorch.devtools.Inspector``.

Versions used are written to ``versions.json``. Nothing here is edited by hand.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch
from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
from executorch.exir import to_edge_transform_and_lower
from executorch.extension.pybindings import portable_lib

HERE = Path(__file__).resolve().parent


class Tiny(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.dw = torch.nn.Conv2d(8, 8, 3, padding=1, groups=8)
        self.fc = torch.nn.Linear(8, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.dw(torch.relu(self.conv(x))))
        return self.fc(x.mean(dim=(2, 3)))


def main() -> None:
    torch.manual_seed(0)
    model = Tiny().eval()
    x = torch.rand(1, 3, 32, 32)
    with tempfile.TemporaryDirectory() as tmp:
        onnx_path = Path(tmp) / "tiny.onnx"
        torch.onnx.export(model, (x,), str(onnx_path), input_names=["x"], output_names=["y"], dynamo=False)
        so = ort.SessionOptions()
        so.intra_op_num_threads = 1
        so.enable_profiling, so.profile_file_prefix = True, str(Path(tmp) / "ort")
        sess = ort.InferenceSession(str(onnx_path), so, providers=["CPUExecutionProvider"])
        for _ in range(3):
            sess.run(None, {"x": x.numpy()})
        shutil.copyfile(sess.end_profiling(), HERE / "ort_profile_tiny.json")

        program = to_edge_transform_and_lower(torch.export.export(model, (x,)), partitioner=[XnnpackPartitioner()])
        pte = Path(tmp) / "tiny.pte"
        pte.write_bytes(program.to_executorch().buffer)
        module = portable_lib._load_for_executorch(str(pte), enable_etdump=True)
        for _ in range(3):
            module.run_method("forward", [x])
        module.write_etdump_result_to_file(str(HERE / "tiny_xnnpack.etdp"))
    import executorch.version

    versions = {"onnxruntime": ort.__version__, "executorch": executorch.version.__version__, "torch": torch.__version__,
                "numpy": np.__version__}  # fmt: skip
    (HERE / "versions.json").write_text(json.dumps(versions, indent=2) + "\n")


if __name__ == "__main__":
    main()
