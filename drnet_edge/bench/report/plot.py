"""The bench's plot: top-1 against mean latency per image."""

from __future__ import annotations

from pathlib import Path

from ...plots import save_plot
from .tables import title


def save_latency_plot(path: str | Path, report: dict) -> Path:
    """Top-1 against mean latency per image, fixed resolutions joined by a line."""
    return save_plot(
        path, report, x_key="latency_ms", x_label="mean end-to-end latency per image (ms)", title=title(report)
    )
