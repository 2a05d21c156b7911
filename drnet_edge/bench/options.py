"""How to measure: the one set of ``drnet-edge bench`` options, and its checks.

The CLI builds a :class:`BenchOptions` and ``run_bench`` hands that same object to whichever path
measures (local, the Android tools, the demo app, a board over SSH). The defaults here are the CLI's
defaults. Each field's metadata names the paths its flag applies to; a flag set for another path is
refused in one line (:func:`reject_misplaced`).
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


# the ways a bench measures, named as the refusals name them
PATHS = {
    "local": "--device local",
    "tools": "the phone's benchmark tools (--device PHONE without --app)",
    "app": "--app (the demo app)",
    "ssh": "boards over SSH (--device ssh://[user@]host[:port])",
}
EVERYWHERE = tuple(PATHS)
ANDROID = ("tools", "app")
# the kind of device each path measures on, and how a refusal names the kind
KIND_OF = {"local": "local", "tools": "android", "app": "android", "ssh": "ssh"}
KIND_WORDS = {
    "local": "this machine (--device local)",
    "android": f"Android devices ({ANDROID_HINT})",
    "ssh": PATHS["ssh"],
}


def _flag(name: str, *, android: bool = False, paths: tuple[str, ...] | None = None, why: str = "") -> dict:
    """Field metadata: the CLI flag that sets the field and the paths it applies to (``android``: both
    phone paths; default: every path); ``why`` says, for a refusal on another path, what the flag needs."""
    where = paths or (ANDROID if android else EVERYWHERE)
    return {"flag": name, "paths": where, "android_only": set(where) <= set(ANDROID), "why": why}


@dataclass(frozen=True)
class BenchOptions:
    """Every option of a bench run, whatever the device. ``data=None`` means the bundled sample;
    ``threads=None`` the profile's threads on a phone, ``min(4, cores)`` locally and on a board."""

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
        if self.kind == "ssh":
            from .ssh import SshTarget, check_ssh_option

            SshTarget.parse(self.device)
            object.__setattr__(self, "ssh_options", tuple(check_ssh_option(o) for o in self.ssh_options))
        if self.on_android and self.policies:
            raise ConfigError(
                "--policies is measured by the local bench only (--device local or a board over ssh://); on a "
                "phone the bench measures the fixed resolutions and the artifacts' default policy"
            )
        reject_misplaced(self)
        for name in self.policies:  # syntax only: a typo answers before anything is read or loaded
            with naming_policy(name):
                check_policy_syntax([name])

    @property
    def kind(self) -> str:
        """``local``, ``ssh`` (``ssh://...``) or ``android`` (a profile, a serial or ``android``)."""
        if self.device == "local":
            return "local"
        return "ssh" if self.device.startswith("ssh://") else "android"

    @property
    def on_android(self) -> bool:
        return self.kind == "android"

    @property
    def path(self) -> str:
        """Which of :data:`PATHS` measures: ``local``, ``ssh``, ``app`` or ``tools``."""
        return "app" if self.on_android and self.app else "tools" if self.on_android else self.kind


@contextmanager
def naming_policy(name: str) -> Iterator[None]:
    """Re-raise a ``ConfigError`` about policy ``name`` as one that names ``--policies`` and the policy."""
    try:
        yield
    except ConfigError as exc:
        named = "" if repr(name) in str(exc) else f" {name}"  # most messages quote the policy already
        raise ConfigError(f"--policies{named}: {exc}") from None


def _set(opts: BenchOptions, f) -> bool:
    return getattr(opts, f.name) != f.default


def reject_misplaced(opts: BenchOptions) -> None:
    """A run refuses options of other paths instead of ignoring them (an option given its default value
    cannot be told apart from one left out, and passes): first those of another kind of device (every
    such flag named), then, on a phone, those of the other phone path (``--op-profile`` with ``--app``)."""
    given = [f for f in fields(opts) if "paths" in f.metadata and _set(opts, f)]
    other_kind = [f for f in given if opts.kind not in {KIND_OF[p] for p in f.metadata["paths"]}]
    if other_kind:
        flags = [f.metadata["flag"] for f in other_kind]
        what = f"{flags[0]} applies" if len(flags) == 1 else f"{', '.join(flags)} apply"
        kinds = dict.fromkeys(KIND_OF[p] for p in other_kind[0].metadata["paths"])
        where = " and ".join(KIND_WORDS[k] for k in kinds)
        raise ConfigError(f"{what} only to {where}, not to --device {opts.device}")
    for f in given:
        if opts.path not in f.metadata["paths"]:
            where = " and ".join(PATHS[p] for p in f.metadata["paths"])
            raise ConfigError(
                f"{f.metadata['flag']} applies to {where}, not to {PATHS[opts.path]}: {f.metadata['why']}"
            )
