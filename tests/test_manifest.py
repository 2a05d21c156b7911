"""The typed manifest: versions, schema validation naming the key, models addressed by resolution index."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from drnet_edge.errors import ArtifactError
from drnet_edge.runtime.manifest import MANIFEST_VERSION, Manifest, read_manifest


def manifest_dict(version: int = MANIFEST_VERSION, **extra: object) -> dict:
    models = {
        "predictor": {"file": "tflite/predictor.tflite", "sha256": "a", "macs": 10, "input_size": 64},
        "backbone_224": {"file": "tflite/b224.tflite", "sha256": "b", "macs": 300, "input_size": 224},
        "backbone_160": {"file": "tflite/b160.tflite", "sha256": "c", "macs": 150, "input_size": 160},
    }
    if version >= 2:
        for name, k in (("predictor", None), ("backbone_224", 0), ("backbone_160", 1)):
            models[name]["resolution_index"] = k
    return {
        "format": "drnet-edge/artifacts",
        "version": version,
        "backbone": "efficientnet_lite0",
        "resolutions": [224, 160],
        "predictor_input": 64,
        "preprocess": {
            "mean": [0.5] * 3,
            "std": [0.5] * 3,
            "crop_pct": 0.875,
            "interpolation": "cubic",
            "layout": "NCHW",
        },
        "classes": {"ids": ["a", "b"], "names": ["A", "B"]},
        "targets": {"tflite": {"precision": "int8", "models": models}},
        **extra,
    }


def test_version_1_reads_and_addresses_backbones_by_index() -> None:
    m = Manifest.from_json(manifest_dict(1))
    t = m.target("tflite")
    assert m.policy is None and t.predictor is not None and t.predictor.name == "predictor"
    assert [b.input_size for b in t.backbones()] == [224, 160] and t.backbone(1).macs == 150


def test_version_2_carries_the_policy() -> None:
    policy = {
        "name": "cascade-160:0.7-224",
        "spec": {"kind": "cascade", "resolutions": [160, 224], "thresholds": [0.7]},
    }
    m = Manifest.from_json(manifest_dict(policy=policy))
    assert m.policy == policy and m.target("tflite").backbone(0).input_size == 224


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda d: d.update(version=MANIFEST_VERSION + 1), "newer than this drnet-edge reads"),
        (lambda d: d.pop("targets"), "'targets'"),
        (lambda d: d["classes"].pop("names"), "'names'"),
        (lambda d: d["targets"]["tflite"]["models"]["backbone_160"].pop("sha256"), "tflite/backbone_160"),
        (lambda d: d.update(format="other"), "not a drnet-edge manifest"),
    ],
)
def test_bad_manifests_name_the_problem(change, message: str) -> None:  # noqa: ANN001
    d = manifest_dict()
    change(d)
    with pytest.raises(ArtifactError, match=message):
        Manifest.from_json(d)


def test_read_manifest_errors(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match="no manifest.json"):
        read_manifest(tmp_path)
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(ArtifactError, match="not valid JSON"):
        read_manifest(tmp_path)
    (tmp_path / "manifest.json").write_text(json.dumps(manifest_dict()))
    assert read_manifest(tmp_path).resolutions == [224, 160]
