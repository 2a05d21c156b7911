"""How to measure: the one set of ``drnet-edge bench`` options, and its checks.

The CLI builds a :class:`BenchOptions` and ``run_bench`` hands that same object to whichever path
measures (local, the Android tools, the demo app, a board over SSH). The defaults here are the CLI's
defaults. Each field's metadata names its flag and the paths (of the registry,
:mod:`drnet_edge.bench.paths`) it applies to; a flag set for another path is refused in one line
(:func:`reject_misplaced`). A board's run passes on every option the local path takes, made from the same
metadata (:func:`local_bench_args`), less those marked ``host`` (``--limit``, ``--subset``: applied here).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path

from ..errors import ConfigError
from ..policy.deploy import naming_policy
from ..policy.registry import check_policy_syntax, policy_names
from .delegates import DELEGATES

# the phone paths, named as the field metadata name them
ANDROID = ("tools", "app")


def _quiet(message: str) -> None:
    """The default ``log``: say nothing."""


def _flag(
    name: str, *, android: bool = False, paths: tuple[str, ...] | None = None, why: str = "", host: str = ""
) -> dict:
    """Field metadata: the CLI flag that sets the field and the paths it applies to, by name (``android``:
    both phone paths; default ``None``: every registered path); ``why`` says, for a refusal on another path,
    what the flag needs. ``host`` (why) marks a field a board run applies on this host and does not pass on
    to the board's own bench (:func:`local_bench_args`)."""
    where = paths or (ANDROID if android else None)
    return {"flag": name, "paths": where, "why": why, "host": host}


_HOST_PHOTOS = "applied on this host: only the photos it keeps are sent to the board"


@dataclass(frozen=True)
class BenchOptions:
    """Every option of a bench run, whatever the device. ``data=None`` means the bundled sample;
    ``threads=None`` the profile's threads on a phone, ``min(4, cores)`` locally and on a board."""

    device: str = field(default="local", metadata=_flag("--device"))
    runtime: str | None = field(default=None, metadata=_flag("--runtime"))
    data: Path | None = field(default=None, metadata=_flag("--data"))
    limit: int | None = field(default=None, metadata=_flag("--limit", host=_HOST_PHOTOS))
    subset: str | None = field(default=None, metadata=_flag("--subset", host=_HOST_PHOTOS))
    threads: int | None = field(default=None, metadata=_flag("--threads"))
    runs: int = field(default=50, metadata=_flag("--runs"))
    warmup: int = field(default=5, metadata=_flag("--warmup"))
    energy: bool = field(default=False, metadata=_flag("--energy"))
    idle_s: float = field(default=3.0, metadata=_flag("--idle"))
    skip_bad: bool = field(default=False, metadata=_flag("--skip-bad"))
    # extra deployable policies measured beside the fixed resolutions and the default (the local bench,
    # here or on a board)
    policies: tuple[str, ...] = field(default=(), metadata=_flag("--policies", paths=("local", "ssh")))
    rounds: int = field(default=3, metadata=_flag("--rounds", android=True))
    cooldown_s: float = field(default=0.0, metadata=_flag("--cooldown", android=True))
    profiles: Path | None = field(default=None, metadata=_flag("--profiles", paths=("tools", "app", "ssh")))
    benchmark_binary: Path | None = field(default=None, metadata=_flag("--benchmark-binary", android=True))
    # the --json report of an interrupted run: a phone's measured models are kept, a board's run re-attached
    resume: Path | None = field(default=None, metadata=_flag("--resume", paths=("tools", "app", "ssh")))
    app: bool = field(default=False, metadata=_flag("--app", android=True))
    app_timeout_s: float = field(default=1800.0, metadata=_flag("--app-timeout", android=True))
    # LiteRT's delegate on the phone: None is the CPU (XNNPACK), as without the flag
    delegate: str | None = field(default=None, metadata=_flag("--delegate", android=True))
    op_profile: bool = field(
        default=False,
        metadata=_flag("--op-profile", paths=("local", "tools", "ssh"),
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
    # boards over SSH: ssh -o options, a venv there to use instead of making one, the wheel to install, a profile
    ssh_options: tuple[str, ...] = field(default=(), metadata=_flag("--ssh-option", paths=("ssh",)))
    remote_venv: str | None = field(default=None, metadata=_flag("--remote-venv", paths=("ssh",)))
    wheel: Path | None = field(default=None, metadata=_flag("--wheel", paths=("ssh",)))
    board: str | None = field(default=None, metadata=_flag("--board", paths=("ssh",)))
    progress: bool = True  # off with --quiet
    log: Callable[[str], None] = field(default=_quiet, compare=False, repr=False)

    def __post_init__(self) -> None:
        for name in ("data", "profiles", "benchmark_binary", "resume", "wheel"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, Path):
                object.__setattr__(self, name, Path(value))
        if self.runs < 1 or self.warmup < 0 or self.rounds < 1:
            raise ConfigError("--runs and --rounds must be at least 1, --warmup at least 0")
        if self.delegate is not None and self.delegate not in DELEGATES:
            raise ConfigError(f"--delegate {self.delegate}: choose one of {', '.join(DELEGATES)}")
        object.__setattr__(self, "policies", tuple(policy_names(self.policies)) if self.policies else ())
        _path_class(self).check(self)  # the measuring path's own checks (an ssh:// URL, a phone's --policies)
        reject_misplaced(self)
        for name in self.policies:  # syntax only: a typo answers before anything is read or loaded
            with naming_policy(name):
                check_policy_syntax([name])

    @property
    def kind(self) -> str:
        """The kind of device: ``local``, ``ssh`` (``ssh://...``) or ``android`` (a profile, a serial or
        ``android``), as the path that measures these options says."""
        return _path_class(self).kind

    @property
    def path(self) -> str:
        """The name of the registered path that measures: ``local``, ``ssh``, ``app`` or ``tools``."""
        return _path_class(self).name


def _path_class(opts: BenchOptions):  # noqa: ANN202 (a BenchPath class: the registry is imported when used)
    from .paths.base import path_class

    return path_class(opts)


def _set(opts: BenchOptions, f) -> bool:
    return getattr(opts, f.name) != f.default


def _where(f) -> tuple[str, ...]:
    """The names of the paths field ``f`` applies to."""
    from .paths.base import registered

    return f.metadata["paths"] or tuple(registered())


def reject_misplaced(opts: BenchOptions) -> None:
    """A run refuses options of other paths instead of ignoring them (an option given its default value
    cannot be told apart from one left out, and passes): first those of another kind of device (every
    such flag named), then, on a phone, those of the other phone path (``--op-profile`` with ``--app``)."""
    from .paths.base import registered

    paths, mine = registered(), _path_class(opts)
    given = [f for f in fields(opts) if "paths" in f.metadata and _set(opts, f)]
    other_kind = [f for f in given if mine.kind not in {paths[p].kind for p in _where(f)}]
    if other_kind:
        flags = [f.metadata["flag"] for f in other_kind]
        what = f"{flags[0]} applies" if len(flags) == 1 else f"{', '.join(flags)} apply"
        where = " and ".join(dict.fromkeys(paths[p].kind_words for p in _where(other_kind[0])))
        raise ConfigError(f"{what} only to {where}, not to --device {opts.device}")
    for f in given:
        if mine.name not in _where(f):
            where = " and ".join(paths[p].words for p in _where(f))
            raise ConfigError(f"{f.metadata['flag']} applies to {where}, not to {mine.words}: {f.metadata['why']}")


def passed_on(f) -> bool:
    """Whether a board run passes field ``f`` on to the board's own bench (the local path there): a field
    with a flag that applies to the local path and is not applied on this host."""
    return "flag" in f.metadata and "local" in _where(f) and not f.metadata["host"]


def local_bench_args(opts: BenchOptions, **values: object) -> list[str]:
    """The ``drnet-edge bench`` options that make the local path measure as ``opts`` says, from the fields'
    own flags (every field :func:`passed_on`), ``values`` in place of some fields' (a board's run: the
    device ``local``, the photos' folder there, the runtime chosen, the threads of its profile). A field
    that is ``None``, ``False`` or empty is left out; a tuple is comma-separated, as the CLI takes it."""
    args: list[str] = []
    for f in fields(opts):
        if not passed_on(f):
            continue
        value = values[f.name] if f.name in values else getattr(opts, f.name)
        if value is None or value is False or value == ():
            continue
        flag = f.metadata["flag"]
        if value is True:
            args.append(flag)
        elif isinstance(value, tuple):
            args += [flag, ",".join(map(str, value))]
        else:
            args += [flag, str(value)]
    return args
