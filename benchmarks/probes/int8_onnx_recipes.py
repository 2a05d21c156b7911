"""Compare onnxruntime static-quantization recipes on lite0-imagenet's 224 backbone.

Calibration: 100 views of the bundled sample (as `drnet-edge convert`). Evaluation: the first 300
photos of the held-out Imagewoof fold (test:0/5), top-1 against their ImageNet labels.

    .venv/bin/python benchmarks/probes/int8_onnx_recipes.py [--data ../shared/data/imagewoof-train-3k] [--n 300]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch
from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
from onnxruntime.quantization.calibrate import CalibrationDataReader

import drnet_edge as de
from drnet_edge.convert import modules_to_export, quant_set

RECIPES = {
    "u8 act / s8 weight, minmax": {},
    "u8/s8, reduce_range": {"reduce_range": True},
    "u8 act / u8 weight": {"weight_type": QuantType.QUInt8},
    "u8/s8, percentile": {"calibrate_method": CalibrationMethod.Percentile},
    "u8/s8, entropy": {"calibrate_method": CalibrationMethod.Entropy},
    "u8/s8, stem and classifier in fp32": {"nodes_to_exclude": "stem+classifier"},
    "u8/s8, centre crops only": {"centre_only": True},
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", default="../shared/data/imagewoof-train-3k")
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--json", type=Path, default=Path("benchmarks/results/int8_onnx_recipes.json"))
    args = ap.parse_args()
    net, _, _ = de.load_model("lite0-imagenet")
    cal = quant_set(net, de.scan_folder(de.sample_dir()), 100)
    module = modules_to_export(net)["backbone_224"][0]
    test = de.scan_folder(args.data, subset="test:0/5", limit=args.n)
    x = torch.cat(
        [
            de.to_tensor(de.crop_and_resize(de.load_image(p), [224], net.preprocess)[224], net.preprocess)
            for p in test.paths
        ]
    ).numpy()
    y = np.array(test.labels)
    tmp = Path(tempfile.mkdtemp())
    fp32 = tmp / "fp32.onnx"
    torch.onnx.export(
        module,
        (cal.views[224][0],),
        str(fp32),
        opset_version=17,
        input_names=["input"],
        output_names=["output"],
        dynamo=False,
    )

    def top1(path: Path) -> float:
        sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        out = np.concatenate([sess.run(None, {"input": x[i : i + 1]})[0] for i in range(len(x))])
        return float((out.argmax(1) == y).mean())

    import onnx

    convs = [n.name for n in onnx.load(str(fp32)).graph.node if n.op_type in ("Conv", "Gemm")]
    n_centre = cal.n_images  # the first views are the centre crops, one per photo

    class Reader(CalibrationDataReader):
        def __init__(self, views: list[torch.Tensor]) -> None:
            self.it = iter([{"input": c.numpy()} for c in views])

        def get_next(self) -> dict | None:
            return next(self.it, None)

    results = {"n": len(y), "fp32": top1(fp32), "int8": {}}
    print(f"fp32: {100 * results['fp32']:.1f}% (n={len(y)})")
    for name, extra in RECIPES.items():
        kw = dict(quant_format=QuantFormat.QDQ, per_channel=True, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                  calibrate_method=CalibrationMethod.MinMax)  # fmt: skip
        extra = dict(extra)
        views = cal.views[224][:n_centre] if extra.pop("centre_only", False) else cal.views[224]
        if extra.get("nodes_to_exclude") == "stem+classifier":
            extra["nodes_to_exclude"] = [convs[0], convs[-1]]
        kw.update(extra)
        quantize_static(str(fp32), str(tmp / "q.onnx"), Reader(views), **kw)
        results["int8"][name] = top1(tmp / "q.onnx")
        print(f"{name}: {100 * results['int8'][name]:.1f}%", flush=True)
    args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
