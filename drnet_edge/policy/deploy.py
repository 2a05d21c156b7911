"""Which policies deploy: the default one a set of converted files runs (their manifest's, else the
predictor's choice), and the ``--policies`` a deployed loop can run (fixed, drnet, drnet-escalate,
cascades: those with a run spec), checked against what the manifest says before any model loads."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError
from .registry import Policy, expand_policies

if TYPE_CHECKING:
    from ..runtime.artifacts import ArtifactDRNet


@contextmanager
def naming_policy(name: str) -> Iterator[None]:
    """Re-raise a ``ConfigError`` about policy ``name`` as one that names ``--policies`` and the policy."""
    try:
        yield
    except ConfigError as exc:
        named = "" if repr(name) in str(exc) else f" {name}"  # most messages quote the policy already
        raise ConfigError(f"--policies{named}: {exc}") from None


def default_spec(art: ArtifactDRNet) -> tuple[str, dict[str, Any]] | None:
    """The artifacts' default policy (name, spec): the manifest's policy for this target (calibrated on
    these files, else the checkpoint's), else ``drnet`` when there is a predictor, else none."""
    return default_policy(art.policy, art.has_predictor)


def default_policy(policy: dict[str, Any] | None, has_predictor: bool) -> tuple[str, dict[str, Any]] | None:
    """:func:`default_spec` from the manifest alone (its policy for the target, and whether it holds a
    predictor), so policies can be checked before any model loads."""
    if policy:
        return policy["name"], policy["spec"]
    return ("drnet", {"kind": "drnet"}) if has_predictor else None


_NOT_DEPLOYABLE = (
    "not a deployable policy (oracles, random controls and the baseline are scored offline by drnet-edge "
    "eval); give fixed-R, drnet, drnet-escalate:T or cascade-R:T-...-R"
)


def deployable_policies(
    names: tuple[str, ...], resolutions: list[int], default: str | None, has_predictor: bool
) -> list[Policy]:
    """The deployable policies ``names`` (``--policies``) stand for, checked against the artifacts'
    resolutions, default policy and predictor (what the manifest says: no model needs to load);
    ``ConfigError`` naming ``--policies`` and the policy for one that does not fit or only replays offline."""
    out: list[Policy] = []
    for name in names:
        if name == "baseline":
            raise ConfigError(f"--policies baseline: {_NOT_DEPLOYABLE}")
        with naming_policy(name):
            found = expand_policies([name], list(resolutions), default=default, with_controls=False)
        for pol in found:
            if pol.spec is None:
                raise ConfigError(f"--policies {pol.name}: {_NOT_DEPLOYABLE}")
            if pol.needs_predictor and not has_predictor:
                raise ConfigError(f"--policies {pol.name}: these artifacts hold no resolution predictor")
        out += found
    return out
