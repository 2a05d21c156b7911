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

ANDROID_HINT = "--device PROFILE, SERIAL or android"
KINDS = ("local", "android", "ssh")  # where a bench runs: this machine, a phone over adb, a board over SSH
WHERE_WORDS = {"local": "this machine (--device local)", "android": f"Android devices ({ANDROID_HINT})",
               "ssh": "boards over SSH (--device ssh://[user@]host[:port])"}  # fmt: skip


def _quiet(message: str) -> None:
    """The default ``log``: say nothing."""


def _flag(name: str, *, android: bool = False, where: tuple[str, ...] | None = None) -> dict:
    """Field metadata: the CLI flag that sets the field and the kinds of device it applies to (``where``;
    ``android=True`` is short for Android only; default: every kind)."""
    where = where or (("android",) if android else KINDS)
    return {"flag": name, "android_only": where == ("android",), "where": where}


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
    policies: tuple[str, ...] = field(default=(), metadata=_flag("--policies", where=("local", "ssh")))
    rounds: int = field(default=3, metadata=_flag("--rounds", android=True))
    cooldown_s: float = field(default=0.0, metadata=_flag("--cooldown", android=True))
    profiles: Path | None = field(default=None, metadata=_flag("--profiles", where=("android", "ssh")))
    benchmark_binary: Path | None = field(default=None, metadata=_flag("--benchmark-binary", android=True))
    # the --json report of an interrupted Android run: the models it measured are kept
    resume: Path | None = field(default=None, metadata=_flag("--resume", where=("android", "ssh")))
    app: bool = field(default=False, metadata=_flag("--app", android=True))
    app_timeout_s: float = field(default=1800.0, metadata=_flag("--app-timeout", android=True))
    # boards over SSH: ssh -o options, a venv there to use instead of making one, the wheel to install, a profile
    ssh_options: tuple[str, ...] = field(default=(), metadata=_flag("--ssh-option", where=("ssh",)))
    remote_venv: str | None = field(default=None, metadata=_flag("--remote-venv", where=("ssh",)))
    wheel: Path | None = field(default=None, metadata=_flag("--wheel", where=("ssh",)))
    board: str | None = field(default=None, metadata=_flag("--board", where=("ssh",)))
    progress: bool = True  # off with --quiet
    log: Callable[[str], None] = field(default=_quiet, compare=False, repr=False)

    def __post_init__(self) -> None:
        for name in ("data", "profiles", "benchmark_binary", "resume", "wheel"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, Path):
                object.__setattr__(self, name, Path(value))
        if self.runs < 1 or self.warmup < 0 or self.rounds < 1:
            raise ConfigError("--runs and --rounds must be at least 1, --warmup at least 0")
        object.__setattr__(self, "policies", tuple(policy_names(self.policies)) if self.policies else ())
        if self.kind == "ssh":
            from .ssh import SshTarget, check_ssh_option

            SshTarget.parse(self.device)
            object.__setattr__(self, "ssh_options", tuple(check_ssh_option(o) for o in self.ssh_options))
        if self.kind == "android" and self.policies:
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
    return [f.metadata["flag"] for f in fields(opts) if f.metadata.get("android_only") and _set(opts, f)]


def misplaced_flags(opts: BenchOptions) -> list[tuple[str, tuple[str, ...]]]:
    """The flags ``opts`` sets (to something other than their default) that do not apply to its device
    kind, with the kinds they apply to."""
    return [
        (f.metadata["flag"], f.metadata["where"])
        for f in fields(opts)
        if "where" in f.metadata and opts.kind not in f.metadata["where"] and _set(opts, f)
    ]


def _set(opts: BenchOptions, f) -> bool:
    return getattr(opts, f.name) != f.default


def reject_misplaced(opts: BenchOptions) -> None:
    """A run refuses options of other device kinds instead of ignoring them (an option given its default
    value cannot be told apart from one left out, and passes)."""
    found = misplaced_flags(opts)
    if found:
        flags = [f for f, _ in found]
        what = f"{flags[0]} applies" if len(flags) == 1 else f"{', '.join(flags)} apply"
        where = " and ".join(WHERE_WORDS[k] for k in found[0][1])
        raise ConfigError(f"{what} only to {where}, not to --device {opts.device}")
