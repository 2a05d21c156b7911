from pathlib import Path

import pytest

from drnet_edge._io import atomic_write, atomic_write_text

from .conftest import modules_after_importing


def test_failed_write_leaves_previous_file_intact(tmp_path: Path) -> None:
    target = atomic_write_text(tmp_path / "ckpt.pt", "good")

    def broken(p: Path) -> None:
        p.write_text("half-writ")
        raise KeyboardInterrupt  # what Ctrl-C during torch.save looks like

    with pytest.raises(KeyboardInterrupt):
        atomic_write(target, broken)
    assert target.read_text() == "good"
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.pt"]


def test_runtime_and_bench_import_without_the_trainer_or_export_tools() -> None:
    loaded = modules_after_importing(
        "drnet_edge.runtime.artifacts", "drnet_edge.bench", "drnet_edge.runtime.manifest", "drnet_edge.policy.registry"
    )
    export_tools = ("litert_torch", "onnx2tf", "tensorflow", "onnxsim")
    found = [n for n in loaded if n.startswith("drnet_edge.train") or n.split(".")[0] in export_tools]
    assert found == [], found


def test_public_functions_win_over_submodules_of_the_same_name() -> None:
    import drnet_edge
    import drnet_edge.evaluate  # noqa: F401  (the submodule import must not shadow the function)
    import drnet_edge.train  # noqa: F401

    assert callable(drnet_edge.evaluate) and callable(drnet_edge.train) and callable(drnet_edge.calibrate)
