"""How to measure: the one set of ``drnet-edge bench`` options, and its checks.

The CLI builds a :class:`BenchOptions` and ``run_bench`` hands that same object to whichever path
measures (local, the Android tools, the demo app). The defaults here are the CLI's defaults.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from pathlib import Path

from ..errors import ConfigError
from ..policy.registry import check_policy_syntax, policy_names
from .delegates import DELEGATES

ANDROID_HINT = "--device PROFILE, SERIAL or android"


def _quiet(message: str) -> None:
    """The default ``log``: say nothing."""


# the three ways a bench measures, named as the refusals name them
PATHS = {
    "local": "--device local",
    "tools": "the phone's benchmark tools (--device PHONE without --app)",
    "app": "--app (the demo app)",
}
EVERYWHERE = ("local", "tools", "app")
ANDROID = ("tools", "app")


def _flag(name: str, *, android: bool = False, paths: tuple[str, ...] | None = None, why: str = "") -> dict:
    """Field metadata: the CLI flag that sets the field and the paths it applies to (``android``: both
    phone paths); ``why`` says, for a refusal on another path, what the flag needs."""
    where = paths or (ANDROID if android else EVERYWHERE)
    return {"flag": name, "paths": where, "android_only": "local" not in where, "why": why}


@dataclass(frozen=True)
class BenchOptions:
    """Every option of a bench run, whatever the device. ``data=None`` means the bundled sample;
    ``threads=None`` the profile's threads on a phone, ``min(4, cores)`` locally."""

    device: str = field(default="local", metadata=_flag("--device"))
    runtime: str | None = field(default=None, metadata=_flag("--runtime"))
    data: Path | None = field(default=None, metadata=_flag("--data"))
    limit: int | None = field(default=None, metadata=_flag("--limit"))
    subset: str | None = field(default=None, metadata=_flag("--subset"))
    threads: int | None = field(default=None, metadata=_flag("--threads"))
    runs: int = field(default=50, metadata=_flag("--runs"))
    warmup: int = field(default=5, metadata=_flag("--warmup"))
    energy: bool = field(default=False, metadata=_flag("--energy"))
    idle_s: float = field(default=3.0, metadata=_flag("--idle"))
    skip_bad: bool = field(default=False, metadata=_flag("--skip-bad"))
    # extra deployable policies measured beside the fixed resolutions and the default (local only)
    policies: tuple[str, ...] = field(default=(), metadata=_flag("--policies"))
    rounds: int = field(default=3, metadata=_flag("--rounds", android=True))
    cooldown_s: float = field(default=0.0, metadata=_flag("--cooldown", android=True))
    profiles: Path | None = field(default=None, metadata=_flag("--profiles", android=True))
    benchmark_binary: Path | None = field(default=None, metadata=_flag("--benchmark-binary", android=True))
    # the --json report of an interrupted Android run: the models it measured are kept
    resume: Path | None = field(default=None, metadata=_flag("--resume", android=True))
    app: bool = field(default=False, metadata=_flag("--app", android=True))
    app_timeout_s: float = field(default=1800.0, metadata=_flag("--app-timeout", android=True))
    # LiteRT's delegate on the phone: None is the CPU (XNNPACK), as without the flag
    delegate: str | None = field(default=None, metadata=_flag("--delegate", android=True))
    op_profile: bool = field(
        default=False,
        metadata=_flag("--op-profile", paths=("local", "tools"),
                       why="the demo app has no per-operator profiler; drop --app to profile with benchmark_model"),
    )  # fmt: skip
    max_temp_c: float | None = field(
        default=None,
        metadata=_flag("--max-temp", paths=("tools",), why="it gates the tools' rounds; the app runs one pass"),
    )
    temp_timeout_s: float = field(
        default=600.0,
        metadata=_flag("--temp-timeout", paths=("tools",), why="it bounds --max-temp's wait before each round"),
    )
    progress: bool = True  # off with --quiet
    log: Callable[[str], None] = field(default=_quiet, compare=False, repr=False)

    def __post_init__(self) -> None:
        for name in ("data", "profiles", "benchmark_binary", "resume"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, Path):
                object.__setattr__(self, name, Path(value))
        if self.runs < 1 or self.warmup < 0 or self.rounds < 1:
            raise ConfigError("--runs and --rounds must be at least 1, --warmup at least 0")
        if self.delegate is not None and self.delegate not in DELEGATES:
            raise ConfigError(f"--delegate {self.delegate}: choose one of {', '.join(DELEGATES)}")
        object.__setattr__(self, "policies", tuple(policy_names(self.policies)) if self.policies else ())
        if self.device == "local":
            reject_android_only(self)
        else:
            reject_inapplicable(self)
        if self.on_android and self.policies:
            raise ConfigError(
                "--policies is measured by the local bench only (--device local); on a phone the bench "
                "measures the fixed resolutions and the artifacts' default policy"
            )
        for name in self.policies:  # syntax only: a typo answers before anything is read or loaded
            with naming_policy(name):
                check_policy_syntax([name])

    @property
    def on_android(self) -> bool:
        return self.device != "local"


@contextmanager
def naming_policy(name: str) -> Iterator[None]:
    """Re-raise a ``ConfigError`` about policy ``name`` as one that names ``--policies`` and the policy."""
    try:
        yield
    except ConfigError as exc:
        named = "" if repr(name) in str(exc) else f" {name}"  # most messages quote the policy already
        raise ConfigError(f"--policies{named}: {exc}") from None


def android_only_flags(opts: BenchOptions) -> list[str]:
    """The Android-only flags ``opts`` sets to something other than their default."""
    return [
        f.metadata["flag"]
        for f in fields(opts)
        if f.metadata.get("android_only") and getattr(opts, f.name) != f.default
    ]


def reject_android_only(opts: BenchOptions) -> None:
    """A local run refuses Android-only options instead of ignoring them (an option given its
    default value cannot be told apart from one left out, and passes)."""
    flags = android_only_flags(opts)
    if flags:
        what = f"{flags[0]} applies" if len(flags) == 1 else f"{', '.join(flags)} apply"
        raise ConfigError(f"{what} only to Android devices ({ANDROID_HINT}), not to --device local")


def bench_path(opts: BenchOptions) -> str:
    """Which of :data:`PATHS` measures ``opts``."""
    return "local" if not opts.on_android else "app" if opts.app else "tools"


def reject_inapplicable(opts: BenchOptions) -> None:
    """A phone run refuses flags that apply to the other phone path only (``--op-profile`` with
    ``--app``, ...), in one line naming the flag and what it needs."""
    path = bench_path(opts)
    for f in fields(opts):
        if f.metadata.get("paths") and path not in f.metadata["paths"] and getattr(opts, f.name) != f.default:
            where = " and ".join(PATHS[p] for p in f.metadata["paths"])
            raise ConfigError(f"{f.metadata['flag']} applies to {where}, not to {PATHS[path]}: {f.metadata['why']}")
