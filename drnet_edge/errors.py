"""Typed exceptions. Library code raises these; only the CLI turns them into messages."""

from __future__ import annotations


class DrnetEdgeError(Exception):
    """Base class for every error drnet-edge raises on purpose (user mistakes, missing parts)."""


class DataError(DrnetEdgeError):
    """A dataset folder, class list or image cannot be used."""


class BadImageError(DataError):
    """An image file could not be decoded."""

    def __init__(self, path: str, reason: str = "cannot be decoded as an image") -> None:
        self.path = path
        super().__init__(f"{path}: {reason}. Remove or replace the file, or pass --skip-bad to skip unreadable images.")


class WeightsError(DrnetEdgeError):
    """Pretrained weights are missing, unreadable or do not fit the architecture."""


class ConfigError(DrnetEdgeError):
    """An option or a combination of options is invalid."""


class CheckpointError(DrnetEdgeError):
    """A checkpoint file is missing, corrupt or does not match what was asked for."""


class ConversionError(DrnetEdgeError):
    """A model could not be converted, or the converted model failed its checks."""

    def __init__(self, model: str, stage: str, reason: str) -> None:
        self.model, self.stage = model, stage
        super().__init__(f"{model}: {stage} failed: {reason}")


class ArtifactError(DrnetEdgeError):
    """An artifact directory is incomplete, altered or inconsistent with its manifest."""


class EmulationError(DrnetEdgeError):
    """A run inside the emulated aarch64 userland failed (the worker crashed or wrote no result)."""
