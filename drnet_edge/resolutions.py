"""The candidate resolutions as given by a user (``--resolutions``, the API's ``resolutions=``, the
trainer's config): one parser shared by the CLI, the Python API and the trainer."""

from __future__ import annotations

from .errors import ConfigError


def parse_resolutions(text: str | list[int] | tuple[int, ...]) -> list[int]:
    """``"224,160,128"`` -> ``[224, 160, 128]`` sorted largest first; rejects junk."""
    items = text.split(",") if isinstance(text, str) else list(text)
    try:
        res = sorted({int(str(r).strip()) for r in items if str(r).strip()}, reverse=True)
    except ValueError:
        raise ConfigError(f"--resolutions must be comma-separated integers, got {text!r}") from None
    if not res or any(r < 16 or r > 2048 for r in res):
        raise ConfigError(f"--resolutions must be integers between 16 and 2048, got {text!r}")
    return res
