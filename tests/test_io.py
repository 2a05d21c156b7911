from pathlib import Path

import pytest

from drnet_edge._io import atomic_write, atomic_write_text


def test_failed_write_leaves_previous_file_intact(tmp_path: Path) -> None:
    target = atomic_write_text(tmp_path / "ckpt.pt", "good")

    def broken(p: Path) -> None:
        p.write_text("half-writ")
        raise KeyboardInterrupt  # what Ctrl-C during torch.save looks like

    with pytest.raises(KeyboardInterrupt):
        atomic_write(target, broken)
    assert target.read_text() == "good"
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.pt"]
