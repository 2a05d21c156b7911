"""The registry of bench paths: each way a bench measures (this machine, the phone's tools, the demo app, a
board over SSH) is one :class:`BenchPath` subclass registered with :func:`register_path`, and
``run_bench`` asks :func:`path_for` which one measures a given :class:`~drnet_edge.bench.options.BenchOptions`.

A path says which devices it takes (:meth:`BenchPath.matches`), checks the options before anything is read
(:meth:`BenchPath.check`, :meth:`BenchPath.before_reading`) and measures, returning a :class:`Measurement`:
the part of the report that is its own, the device's facts, the images measured and the threads used.
``run_bench`` wraps every measurement in the same report. Paths are tried in the order registered, a
``catch_all`` path (a phone: any other device name is an adb serial or a profile) after every other.

This module imports nothing of the bench, so the options can name the paths without an import cycle.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from ...runtime.manifest import Manifest


@dataclass
class Measurement:
    """What a path measured: its part of the report and the facts ``run_bench`` puts around it.

    ``models`` (per model), ``policies`` (per policy, raw: ``run_bench`` adds the ratios), ``energy`` and
    ``schedule`` are in every report; ``sections`` holds the path's own parts (``tool``, ``delegation``,
    ``thermal``, ``resident``, ``op_profile``, ``remote``, ...) under their report keys, in order."""

    device: dict[str, Any]
    n: int  # images measured
    skipped_bad: list[str]
    threads: int | None
    models: dict[str, dict]
    policies: dict[str, dict]
    energy: dict[str, Any]
    schedule: str
    default_policy: str | None = None
    incomplete: str | None = None  # why the run stopped early; ``None`` when it did not
    warnings: list[str] = field(default_factory=list)
    sections: dict[str, Any] = field(default_factory=dict)

    # the report keys held by a field of their own (the rest of a body goes to ``sections``)
    OWN: ClassVar[tuple[str, ...]] = ("models", "policies", "default_policy", "schedule", "energy", "incomplete",
                                      "warnings")  # fmt: skip

    @classmethod
    def from_body(cls, body: dict, *, device: dict, n: int, skipped_bad: list[str], threads: int | None) -> Measurement:
        """From a report body (a path's keys of the report, as a dict in report order)."""
        rest = {k: v for k, v in body.items() if k not in cls.OWN}
        return cls(device=device, n=n, skipped_bad=list(skipped_bad), threads=threads, models=body["models"],
                   policies=body["policies"], energy=body["energy"], schedule=body["schedule"],
                   default_policy=body.get("default_policy"), incomplete=body.get("incomplete"),
                   warnings=list(body.get("warnings") or ()), sections=rest)  # fmt: skip

    def body(self) -> dict[str, Any]:
        """The report's keys for this measurement (``run_bench`` puts the run's facts before them)."""
        return {
            "models": self.models,
            "policies": self.policies,
            "default_policy": self.default_policy,
            "schedule": self.schedule,
            "energy": self.energy,
            **self.sections,
            "incomplete": self.incomplete,
            "warnings": list(self.warnings),
        }


class BenchPath:
    """One way to measure. Subclasses set the class attributes, implement :meth:`measure`, and are
    registered with :func:`register_path`."""

    name: ClassVar[str]  # as the options' field metadata name it: local, tools, app, ssh, ...
    kind: ClassVar[str]  # the kind of device: local, android, ssh, ...
    words: ClassVar[str]  # how a refusal names the path
    kind_words: ClassVar[str]  # how a refusal names its kind of device
    catch_all: ClassVar[bool] = False  # tried after every other path

    @classmethod
    def matches(cls, opts: Any) -> bool:
        """Whether this path measures ``opts`` (its ``device``, and for a phone ``app``)."""
        raise NotImplementedError

    @classmethod
    def check(cls, opts: Any) -> None:
        """This path's own checks of the options (and normalisation, e.g. of ``ssh -o`` options) when they
        are made, before the flags of other paths are refused; raise ``ConfigError``."""

    def before_reading(self, opts: Any) -> None:
        """Checks before the artifacts or any photo are read."""

    def measure(self, root: Path, manifest: Manifest, target: str, opts: Any, previous: dict | None) -> Measurement:
        """Measure ``target``'s models of the artifacts at ``root`` as ``opts`` says; ``previous`` is an
        interrupted run's report (``--resume``), else ``None``."""
        raise NotImplementedError


PATHS: dict[str, type[BenchPath]] = {}


def register_path(cls: type[BenchPath]) -> type[BenchPath]:
    """Class decorator: add ``cls`` to :data:`PATHS` under its ``name``."""
    if cls.name in PATHS and PATHS[cls.name] is not cls:
        raise ValueError(f"two bench paths named {cls.name!r}: {PATHS[cls.name].__name__} and {cls.__name__}")
    PATHS[cls.name] = cls
    return cls


def registered() -> dict[str, type[BenchPath]]:
    """Every path, the catch-all ones last. Importing this module runs the ``paths`` package first, which
    imports every path's module: each registers itself."""
    return {n: c for n, c in sorted(PATHS.items(), key=lambda item: item[1].catch_all)}


def path_class(opts: Any) -> type[BenchPath]:
    """The class of the path that measures ``opts``."""
    for cls in registered().values():
        if cls.matches(opts):
            return cls
    raise LookupError(f"no bench path takes --device {opts.device}")  # a catch-all path takes any


def path_for(opts: Any) -> BenchPath:
    """The path that measures ``opts``."""
    return path_class(opts)()
